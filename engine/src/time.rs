//! Conversions of the scenario's milliseconds into the engine's microseconds.

/// Whole milliseconds (a TCP setting) in microseconds. The scenario check bounds every such
/// setting; saturating keeps a value that slipped past it from overflowing.
pub(crate) fn ms_to_us(ms: u64) -> u64 {
    ms.saturating_mul(1_000)
}

/// Fractional milliseconds (a step's time, a fault's window) in whole microseconds.
pub(crate) fn fractional_ms_to_us(ms: f64) -> u64 {
    (ms * 1000.0).round() as u64
}
