//! The page's components. Each takes props and callbacks; none owns playback state.

pub mod controls;
pub mod hosts;
pub mod machine;
pub mod panes;
pub mod sequence;

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
