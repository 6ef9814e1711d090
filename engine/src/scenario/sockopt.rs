//! Socket options: their names (for getsockopt() and setsockopt()), the values a scenario
//! writes for them, and an option paired with its value.

use serde::{Deserialize, Serialize};

/// A socket option's value as a scenario writes it: a flag, a number or a linger pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OptValue {
    Flag(bool),
    Number(u32),
    Linger(Linger),
}

/// A socket option with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockOpt {
    ReuseAddr(bool),
    /// `{ "onoff": true, "linger": 0 }`: seconds.
    Linger(Linger),
    RcvBuf(u32),
    SndBuf(u32),
    NoDelay(bool),
    KeepAlive(bool),
    /// SO_REUSEPORT: several sockets of one user may bind, and listen on, the same port.
    ReusePort(bool),
    /// TCP_QUICKACK: `false` enters delayed-ACK ("pingpong") mode, `true` leaves it.
    QuickAck(bool),
    /// TCP_MAXSEG: the largest segment this socket announces and sends (0: no limit of its own).
    MaxSeg(u32),
    /// TCP_CORK: hold a last segment smaller than the MSS until the cork is pulled.
    Cork(bool),
    /// TCP_INQ: each recv() also says how many bytes are left to read.
    Inq(bool),
    /// TCP_USER_TIMEOUT: milliseconds data may stay unacknowledged before the connection is
    /// dropped with ETIMEDOUT (0: tcp_retries2 decides).
    UserTimeout(u32),
}

impl SockOpt {
    /// Pairs a name with a value, or says why they do not fit.
    pub fn new(name: OptName, value: OptValue) -> Result<SockOpt, String> {
        let flag = |value: OptValue| match value {
            OptValue::Flag(flag) => Ok(flag),
            OptValue::Number(number) => Ok(number != 0),
            OptValue::Linger(_) => Err(format!("{} takes true/false or 0/1", name.name())),
        };
        let number = |value: OptValue| match value {
            OptValue::Number(number) => Ok(number),
            _ => Err(format!("{} takes a number of bytes", name.name())),
        };
        Ok(match name {
            OptName::ReuseAddr => SockOpt::ReuseAddr(flag(value)?),
            OptName::NoDelay => SockOpt::NoDelay(flag(value)?),
            OptName::KeepAlive => SockOpt::KeepAlive(flag(value)?),
            OptName::ReusePort => SockOpt::ReusePort(flag(value)?),
            OptName::QuickAck => SockOpt::QuickAck(flag(value)?),
            OptName::Cork => SockOpt::Cork(flag(value)?),
            OptName::Inq => SockOpt::Inq(flag(value)?),
            OptName::RcvBuf => SockOpt::RcvBuf(number(value)?),
            OptName::SndBuf => SockOpt::SndBuf(number(value)?),
            OptName::MaxSeg => SockOpt::MaxSeg(number(value)?),
            OptName::UserTimeout => SockOpt::UserTimeout(number(value)?),
            OptName::Linger => match value {
                OptValue::Linger(linger) => SockOpt::Linger(linger),
                _ => return Err("SO_LINGER takes {\"onoff\": true, \"linger\": seconds}".to_string()),
            },
            OptName::Error => return Err("SO_ERROR can only be read".to_string()),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linger {
    pub onoff: bool,
    pub linger: u32,
}

/// A socket option's name, for getsockopt().
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptName {
    #[serde(rename = "SO_REUSEADDR")]
    ReuseAddr,
    #[serde(rename = "SO_LINGER")]
    Linger,
    #[serde(rename = "SO_RCVBUF")]
    RcvBuf,
    #[serde(rename = "SO_SNDBUF")]
    SndBuf,
    #[serde(rename = "TCP_NODELAY")]
    NoDelay,
    #[serde(rename = "SO_KEEPALIVE")]
    KeepAlive,
    #[serde(rename = "SO_REUSEPORT")]
    ReusePort,
    #[serde(rename = "TCP_QUICKACK")]
    QuickAck,
    #[serde(rename = "SO_ERROR")]
    Error,
    #[serde(rename = "TCP_MAXSEG")]
    MaxSeg,
    #[serde(rename = "TCP_USER_TIMEOUT")]
    UserTimeout,
    #[serde(rename = "TCP_CORK")]
    Cork,
    #[serde(rename = "TCP_INQ")]
    Inq,
}

impl OptName {
    pub const fn name(self) -> &'static str {
        match self {
            OptName::ReuseAddr => "SO_REUSEADDR",
            OptName::Linger => "SO_LINGER",
            OptName::RcvBuf => "SO_RCVBUF",
            OptName::SndBuf => "SO_SNDBUF",
            OptName::NoDelay => "TCP_NODELAY",
            OptName::KeepAlive => "SO_KEEPALIVE",
            OptName::ReusePort => "SO_REUSEPORT",
            OptName::QuickAck => "TCP_QUICKACK",
            OptName::Error => "SO_ERROR",
            OptName::MaxSeg => "TCP_MAXSEG",
            OptName::UserTimeout => "TCP_USER_TIMEOUT",
            OptName::Cork => "TCP_CORK",
            OptName::Inq => "TCP_INQ",
        }
    }
}

impl SockOpt {
    pub fn name(self) -> OptName {
        match self {
            SockOpt::ReuseAddr(_) => OptName::ReuseAddr,
            SockOpt::Linger(_) => OptName::Linger,
            SockOpt::RcvBuf(_) => OptName::RcvBuf,
            SockOpt::SndBuf(_) => OptName::SndBuf,
            SockOpt::NoDelay(_) => OptName::NoDelay,
            SockOpt::KeepAlive(_) => OptName::KeepAlive,
            SockOpt::ReusePort(_) => OptName::ReusePort,
            SockOpt::QuickAck(_) => OptName::QuickAck,
            SockOpt::MaxSeg(_) => OptName::MaxSeg,
            SockOpt::UserTimeout(_) => OptName::UserTimeout,
            SockOpt::Cork(_) => OptName::Cork,
            SockOpt::Inq(_) => OptName::Inq,
        }
    }
}
