//! The world's one random number generator: SplitMix64, seeded by the scenario.
//!
//! Written out here (eleven lines) rather than taken from a crate so that the sequence can
//! never change under us with a dependency upgrade: the same seed gives the same trace.

#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A number in `low..=high` (the slight modulo bias does not matter for a simulation).
    pub fn range(&mut self, low: u32, high: u32) -> u32 {
        debug_assert!(low <= high);
        low + (self.next_u64() % u64::from(high - low + 1)) as u32
    }

    /// True with probability `rate`. A certain outcome (a rate of 0 or less, 1 or more) takes
    /// no draw, so a rule that always or never applies leaves every later draw as it was: a
    /// what-if fork that duplicates one segment keeps the original run's ports and ISNs.
    pub fn chance(&mut self, rate: f64) -> bool {
        if rate <= 0.0 || rate >= 1.0 {
            return rate >= 1.0;
        }
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            let value = r.range(32768, 60999);
            assert!((32768..=60999).contains(&value));
        }
    }
}
