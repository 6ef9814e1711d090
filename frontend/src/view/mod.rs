//! The page's components. Each takes props and callbacks; none owns playback state.

pub mod controls;
pub mod hosts;
pub mod machine;
pub mod page;
pub mod panes;
pub mod sequence;
pub mod validation_rows;

use sockscope_engine::state::State;

/// The CSS class of a state's family (opening, established, closing actively or passively).
pub fn state_class(state: State) -> &'static str {
    match state {
        State::Closed => "st-closed",
        State::Listen => "st-listen",
        State::SynSent | State::SynRecv => "st-opening",
        State::Established => "st-established",
        State::FinWait1 | State::FinWait2 | State::Closing => "st-active-close",
        State::CloseWait | State::LastAck => "st-passive-close",
        State::TimeWait => "st-time-wait",
    }
}

/// A shape per state family, so that states differ by more than colour.
pub fn state_shape(state: State) -> &'static str {
    match state {
        State::Closed => "○",
        State::Listen => "◎",
        State::SynSent | State::SynRecv => "◇",
        State::Established => "●",
        State::FinWait1 | State::FinWait2 | State::Closing => "▽",
        State::CloseWait | State::LastAck => "△",
        State::TimeWait => "■",
    }
}

/// A coordinate or length with one decimal, e.g. `-12.5`, for SVG attributes.
///
/// Written with integers: Rust's float formatting (`{:.1}`) is exact and general, which costs
/// both time on every redraw and code in the page, and one decimal of a pixel needs neither.
/// Halves round away from zero; values that are not finite become `0.0`.
pub fn num(value: f64) -> String {
    let tenths = (value * 10.0).round();
    let tenths = if tenths.is_finite() { tenths as i64 } else { 0 };
    let sign = if tenths < 0 { "-" } else { "" };
    let abs = tenths.unsigned_abs();
    format!("{sign}{}.{}", abs / 10, abs % 10)
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn num_writes_one_decimal_like_the_formatter() {
        let values = [0.0, 1.0, -1.0, 12.34, -12.34, 0.04, -0.04, 0.06, -0.06, 639.96, 1e6 + 0.27, 34.0 + 560.0 * 0.7];
        for value in values {
            let expected = format!("{value:.1}");
            // `{:.1}` keeps the sign of a negative value that rounds to zero; an SVG reader
            // does not care, so compare numerically there.
            if expected == "-0.0" {
                assert_eq!(num(value), "0.0");
            } else {
                assert_eq!(num(value), expected, "{value}");
            }
        }
        assert_eq!(num(0.25), "0.3");
        assert_eq!(num(-0.25), "-0.3");
        assert_eq!(num(f64::NAN), "0.0");
        assert_eq!(num(f64::INFINITY), "0.0");
    }
}
