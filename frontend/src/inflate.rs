//! Inflating raw DEFLATE data (RFC 1951), for the scenarios that links carry.
//!
//! The page compresses with the browser's own `CompressionStream` (see `share.rs`) and needs
//! only this decoder, which is a small fraction of a general-purpose deflate library's code.
//! It decodes Huffman codes a bit at a time, the simple canonical-code method of RFC 1951
//! §3.2.2: fast enough for a scenario of a few kilobytes. The input is untrusted (anyone can
//! write a link), so every read is checked, the output stops at a limit, and malformed data is
//! an error, never a panic.

/// Why data does not inflate.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// The output would grow past the limit given.
    TooLarge,
    /// The data is not valid raw DEFLATE (or ends too early).
    Damaged,
}

/// The code lengths' own code lengths come in this order (RFC 1951 §3.2.7).
const CODE_LENGTH_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
/// Base lengths and extra bits of length symbols 257..285 (RFC 1951 §3.2.5).
const LENGTH_BASE: [u16; 29] =
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
/// Base distances and extra bits of distance symbols 0..29.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

const MAX_BITS: usize = 15;

/// A canonical Huffman code: how many codes have each length, and the symbols in code order.
struct Huffman {
    counts: [u16; MAX_BITS + 1],
    symbols: Vec<u16>,
}

impl Huffman {
    /// Builds the code for symbol code lengths (0: unused). An over-subscribed set of lengths
    /// is an error; an incomplete one is allowed, as RFC 1951 permits a single distance code.
    fn new(lengths: &[u8]) -> Result<Huffman, Error> {
        let mut counts = [0u16; MAX_BITS + 1];
        for &length in lengths {
            counts[usize::from(length)] += 1;
        }
        let mut left: i32 = 1;
        for &count in &counts[1..] {
            left = (left << 1) - i32::from(count);
            if left < 0 {
                return Err(Error::Damaged);
            }
        }
        let mut offsets = [0u16; MAX_BITS + 2];
        for length in 1..=MAX_BITS {
            offsets[length + 1] = offsets[length] + counts[length];
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (symbol, &length) in lengths.iter().enumerate() {
            if length != 0 {
                let slot = &mut offsets[usize::from(length)];
                symbols[usize::from(*slot)] = symbol as u16;
                *slot += 1;
            }
        }
        counts[0] = 0;
        Ok(Huffman { counts, symbols })
    }
}

struct Inflater<'a> {
    input: &'a [u8],
    /// The next input byte.
    pos: usize,
    /// Bits not yet used, lowest first, and how many there are.
    bits: u32,
    count: u32,
    out: Vec<u8>,
    limit: usize,
}

impl Inflater<'_> {
    fn bits(&mut self, need: u32) -> Result<u32, Error> {
        while self.count < need {
            let byte = *self.input.get(self.pos).ok_or(Error::Damaged)?;
            self.pos += 1;
            self.bits |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let value = self.bits & ((1u32 << need) - 1);
        self.bits >>= need;
        self.count -= need;
        Ok(value)
    }

    fn push(&mut self, byte: u8) -> Result<(), Error> {
        if self.out.len() >= self.limit {
            return Err(Error::TooLarge);
        }
        self.out.push(byte);
        Ok(())
    }

    /// Reads one symbol: Huffman codes are sent most significant bit first.
    fn decode(&mut self, code: &Huffman) -> Result<u16, Error> {
        let (mut value, mut first, mut index) = (0i32, 0i32, 0i32);
        for length in 1..=MAX_BITS {
            value |= self.bits(1)? as i32;
            let count = i32::from(code.counts[length]);
            if value - count < first {
                let slot = (index + value - first) as usize;
                return code.symbols.get(slot).copied().ok_or(Error::Damaged);
            }
            index += count;
            first = (first + count) << 1;
            value <<= 1;
        }
        Err(Error::Damaged)
    }

    fn stored(&mut self) -> Result<(), Error> {
        // The length fields start at the next byte boundary.
        self.bits = 0;
        self.count = 0;
        let header = self.input.get(self.pos..self.pos + 4).ok_or(Error::Damaged)?;
        let length = u16::from_le_bytes([header[0], header[1]]);
        let check = u16::from_le_bytes([header[2], header[3]]);
        if length != !check {
            return Err(Error::Damaged);
        }
        self.pos += 4;
        let data = self.input.get(self.pos..self.pos + usize::from(length)).ok_or(Error::Damaged)?;
        if self.out.len() + data.len() > self.limit {
            return Err(Error::TooLarge);
        }
        self.out.extend_from_slice(data);
        self.pos += usize::from(length);
        Ok(())
    }

    fn codes(&mut self, literals: &Huffman, distances: &Huffman) -> Result<(), Error> {
        loop {
            let symbol = usize::from(self.decode(literals)?);
            match symbol {
                0..=255 => self.push(symbol as u8)?,
                256 => return Ok(()),
                _ => {
                    let index = symbol - 257;
                    let (&base, &extra) = LENGTH_BASE.get(index).zip(LENGTH_EXTRA.get(index)).ok_or(Error::Damaged)?;
                    let length = usize::from(base) + self.bits(u32::from(extra))? as usize;
                    let index = usize::from(self.decode(distances)?);
                    let (&base, &extra) = DIST_BASE.get(index).zip(DIST_EXTRA.get(index)).ok_or(Error::Damaged)?;
                    let distance = usize::from(base) + self.bits(u32::from(extra))? as usize;
                    if distance > self.out.len() {
                        return Err(Error::Damaged);
                    }
                    for _ in 0..length {
                        let byte = self.out[self.out.len() - distance];
                        self.push(byte)?;
                    }
                }
            }
        }
    }

    fn fixed(&mut self) -> Result<(), Error> {
        let mut lengths = [0u8; 288];
        lengths[..144].fill(8);
        lengths[144..256].fill(9);
        lengths[256..280].fill(7);
        lengths[280..].fill(8);
        let literals = Huffman::new(&lengths)?;
        let distances = Huffman::new(&[5; 30])?;
        self.codes(&literals, &distances)
    }

    fn dynamic(&mut self) -> Result<(), Error> {
        let literal_count = self.bits(5)? as usize + 257;
        let distance_count = self.bits(5)? as usize + 1;
        let length_count = self.bits(4)? as usize + 4;
        if literal_count > 286 || distance_count > 30 {
            return Err(Error::Damaged);
        }
        let mut length_lengths = [0u8; 19];
        for &slot in &CODE_LENGTH_ORDER[..length_count] {
            length_lengths[slot] = self.bits(3)? as u8;
        }
        let length_code = Huffman::new(&length_lengths)?;
        let mut lengths = vec![0u8; literal_count + distance_count];
        let mut index = 0;
        while index < lengths.len() {
            let symbol = self.decode(&length_code)?;
            let (value, repeat) = match symbol {
                0..=15 => (symbol as u8, 1),
                16 => (*lengths.get(index.wrapping_sub(1)).ok_or(Error::Damaged)?, 3 + self.bits(2)?),
                17 => (0, 3 + self.bits(3)?),
                _ => (0, 11 + self.bits(7)?),
            };
            let end = index + repeat as usize;
            lengths.get_mut(index..end).ok_or(Error::Damaged)?.fill(value);
            index = end;
        }
        if lengths[256] == 0 {
            // Without an end-of-block code the block could never end.
            return Err(Error::Damaged);
        }
        let literals = Huffman::new(&lengths[..literal_count])?;
        let distances = Huffman::new(&lengths[literal_count..])?;
        self.codes(&literals, &distances)
    }
}

/// Inflates raw DEFLATE `data` into at most `limit` bytes.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut inflater = Inflater { input: data, pos: 0, bits: 0, count: 0, out: Vec::new(), limit };
    loop {
        let last = inflater.bits(1)? == 1;
        match inflater.bits(2)? {
            0 => inflater.stored()?,
            1 => inflater.fixed()?,
            2 => inflater.dynamic()?,
            _ => return Err(Error::Damaged),
        }
        if last {
            return Ok(inflater.out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for test data.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn inflates_what_miniz_deflates_at_every_level() {
        let mut inputs: Vec<Vec<u8>> =
            sockscope_engine::builtin::SOURCES.iter().map(|(_, text)| text.as_bytes().to_vec()).collect();
        inputs.push(Vec::new());
        inputs.push(b"a".to_vec());
        inputs.push(noise(1, 70_000));
        inputs.push(noise(2, 3000).iter().map(|byte| b'a' + byte % 3).collect());
        inputs.push(vec![b'x'; 100_000]);
        for input in &inputs {
            // Level 0 writes stored blocks, 1 mostly fixed codes, 9 dynamic ones.
            for level in [0, 1, 6, 9] {
                let packed = miniz_oxide::deflate::compress_to_vec(input, level);
                assert_eq!(
                    inflate(&packed, 1 << 20).as_deref(),
                    Ok(&input[..]),
                    "level {level}, {} bytes",
                    input.len()
                );
            }
        }
    }

    #[test]
    fn stops_at_the_limit() {
        let packed = miniz_oxide::deflate::compress_to_vec(&[0u8; 50_000], 9);
        assert_eq!(inflate(&packed, 49_999), Err(Error::TooLarge));
        assert_eq!(inflate(&packed, 50_000).map(|out| out.len()), Ok(50_000));
        let stored = miniz_oxide::deflate::compress_to_vec(&noise(3, 5000), 0);
        assert_eq!(inflate(&stored, 4999), Err(Error::TooLarge));
    }

    #[test]
    fn damaged_data_is_an_error_and_never_a_panic() {
        let text = sockscope_engine::builtin::source("tlpi-tcpdump").unwrap();
        let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
        for cut in 0..packed.len() {
            assert!(inflate(&packed[..cut], 1 << 20).is_err(), "cut at {cut}");
        }
        // Every single-bit flip, and random data, either inflates or is refused cleanly.
        for bit in 0..packed.len() * 8 {
            let mut flipped = packed.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let _ = inflate(&flipped, 1 << 16);
        }
        for seed in 0..3000 {
            let _ = inflate(&noise(seed, (seed % 300) as usize), 1 << 16);
        }
        assert_eq!(inflate(&[0b111], 100), Err(Error::Damaged), "block type 3 is reserved");
    }
}
