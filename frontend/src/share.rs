//! Custom scenarios in the URL fragment: raw deflate, then unpadded base64url (RFC 4648 §5).
//!
//! The fragment never reaches a server, so a link carries a whole scenario without one. The
//! page compresses with the browser's own `CompressionStream("deflate-raw")` ([`pack`]) and
//! inflates with [`crate::inflate`], which is far smaller than a deflate library. A fragment
//! is untrusted input: decoding checks every character, and inflating stops at
//! [`MAX_SCENARIO_BYTES`] so that a small link cannot expand into gigabytes.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::inflate::{self, inflate};

/// The largest scenario text a link may unpack to: the engine's own limit for a scenario.
pub use sockscope_engine::scenario::MAX_SCENARIO_BYTES;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[wasm_bindgen]
extern "C" {
    /// The Compression Streams API's compressor (in every current browser; declared here
    /// because web-sys still lists it among its unstable APIs).
    type CompressionStream;

    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<CompressionStream, JsValue>;
}

/// Packs scenario text for the fragment and calls `done` with it, or with why the browser
/// could not compress it. `done` is boxed so that the page carries one copy of this function
/// however many callers it has.
pub fn pack(text: &str, done: Box<dyn FnOnce(Result<String, String>)>) {
    let compressed = (|| {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(text.as_bytes()));
        let blob = web_sys::Blob::new_with_u8_array_sequence(&parts)?;
        let compressor: web_sys::ReadableWritablePair = CompressionStream::new("deflate-raw")?.unchecked_into();
        let stream = blob.stream().pipe_through(&compressor);
        web_sys::Response::new_with_opt_readable_stream(Some(&stream))?.array_buffer()
    })();
    let promise = match compressed {
        Ok(promise) => promise,
        Err(_) => return done(Err("this browser cannot compress the scenario for a link".to_string())),
    };
    crate::promise::settle(
        &promise,
        |buffer| Ok(base64url_encode(&js_sys::Uint8Array::new(&buffer).to_vec())),
        move |packed| done(packed.map_err(|_| "the browser could not compress the scenario for a link".to_string())),
    );
}

/// Unpacks a fragment, saying what is wrong with it (a phrase about "it", the link's scenario).
pub fn unpack(packed: &str) -> Result<String, String> {
    let bytes = base64url_decode(packed.trim())?;
    let inflated = inflate(&bytes, MAX_SCENARIO_BYTES).map_err(|err| match err {
        inflate::Error::TooLarge => {
            format!("it is larger than {} KiB once unpacked", MAX_SCENARIO_BYTES / 1024)
        }
        inflate::Error::Damaged => "it is damaged (its compressed data does not inflate)".to_string(),
    })?;
    String::from_utf8(inflated).map_err(|_| "it is not UTF-8 text".to_string())
}

pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let value = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let digits = chunk.len() + 1;
        for position in 0..digits {
            out.push(ALPHABET[(value >> (18 - 6 * position) & 63) as usize] as char);
        }
    }
    out
}

pub fn base64url_decode(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim_end_matches('=');
    if text.len() % 4 == 1 {
        return Err("it is cut short (its length is not valid base64url)".to_string());
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for (index, character) in text.chars().enumerate() {
        let value = match character {
            'A'..='Z' => character as u32 - 'A' as u32,
            'a'..='z' => character as u32 - 'a' as u32 + 26,
            '0'..='9' => character as u32 - '0' as u32 + 52,
            '-' | '+' => 62,
            '_' | '/' => 63,
            _ => return Err(format!("it has a character that base64url does not use at position {index}")),
        };
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        // RFC 4648 §10 test vectors, without padding.
        let cases = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64url_encode(plain.as_bytes()), encoded);
            assert_eq!(base64url_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
    }

    /// What the browser's compressor writes, as far as the format goes (the browser tests
    /// check the page's own links end to end).
    fn pack(text: &str) -> String {
        base64url_encode(&miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9))
    }

    #[test]
    fn unpacks_every_builtin() {
        for name in sockscope_engine::builtin::names() {
            let text = sockscope_engine::builtin::source(name).unwrap();
            let packed = pack(text);
            assert!(packed.len() < text.len(), "{name} should compress");
            assert_eq!(unpack(&packed).unwrap(), text);
        }
    }

    #[test]
    fn broken_fragments_are_explained() {
        let cases = [
            ("a", "cut short"),
            ("ab$d", "character that base64url does not use"),
            ("AAAA", "damaged"),
            ("", "damaged"),
        ];
        for (packed, message) in cases {
            let err = unpack(packed).unwrap_err();
            assert!(err.contains(message), "{packed}: {err}");
        }
        // A bomb: 2 MiB of spaces packs small but must not unpack.
        let bomb = pack(&" ".repeat(2 << 20));
        assert!(bomb.len() < 10_000);
        assert!(unpack(&bomb).unwrap_err().contains("larger than 1024 KiB"));
        // Invalid UTF-8.
        let packed = base64url_encode(&miniz_oxide::deflate::compress_to_vec(&[0xff, 0xfe], 9));
        assert!(unpack(&packed).unwrap_err().contains("not UTF-8"));
    }
}
