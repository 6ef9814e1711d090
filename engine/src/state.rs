//! The eleven TCP states, named as Linux's netstat names them, plus the `ss` spelling.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A TCP connection state (RFC 793 section 3.2; Linux `include/net/tcp_states.h`).
///
/// `Closed` is RFC 793's CLOSED, which Linux calls TCP_CLOSE; a socket that was just
/// created, and a connection that has ended, are both in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynRecv,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    /// The name netstat prints and the trace uses (`SYN_RECV`, `FIN_WAIT1`, ...).
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN_SENT",
            State::SynRecv => "SYN_RECV",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN_WAIT1",
            State::FinWait2 => "FIN_WAIT2",
            State::CloseWait => "CLOSE_WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST_ACK",
            State::TimeWait => "TIME_WAIT",
        }
    }

    /// The name `ss -tan` prints in its State column (iproute2 `misc/ss.c`, `sstate_name`).
    pub fn ss_name(self) -> &'static str {
        match self {
            State::Closed => "UNCONN",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynRecv => "SYN-RECV",
            State::Established => "ESTAB",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        }
    }

    /// The state code of `/proc/net/tcp` (01 ESTABLISHED ... 0B CLOSING).
    pub fn proc_code(self) -> u8 {
        match self {
            State::Established => 0x01,
            State::SynSent => 0x02,
            State::SynRecv => 0x03,
            State::FinWait1 => 0x04,
            State::FinWait2 => 0x05,
            State::TimeWait => 0x06,
            State::Closed => 0x07,
            State::CloseWait => 0x08,
            State::LastAck => 0x09,
            State::Listen => 0x0A,
            State::Closing => 0x0B,
        }
    }

    pub fn from_proc_code(code: u8) -> Option<State> {
        State::ALL.into_iter().find(|state| state.proc_code() == code)
    }

    /// True once the connection is synchronized (RFC 793's "synchronized states").
    pub fn is_synchronized(self) -> bool {
        !matches!(self, State::Closed | State::Listen | State::SynSent | State::SynRecv)
    }

    /// True when the local side may still send data.
    pub fn can_send(self) -> bool {
        matches!(self, State::Established | State::CloseWait)
    }

    /// The states in which a socket sends data or a FIN: it has a peer and has not yet sent
    /// everything it will ever send.
    pub(crate) fn may_transmit(self) -> bool {
        matches!(self, State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_codes_round_trip() {
        for state in State::ALL {
            assert_eq!(State::from_proc_code(state.proc_code()), Some(state));
        }
    }

    #[test]
    fn serde_uses_the_netstat_names() {
        for state in State::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.name()));
        }
    }
}
