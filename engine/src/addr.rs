//! IPv4 addresses and socket addresses as the trace and the scenario spell them.
//!
//! Simplification: IPv4 only. Every course figure the project draws uses IPv4, and the
//! loopback validator maps hosts onto 127.0.0.0/8.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 address. `0.0.0.0` is the wildcard (INADDR_ANY).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ipv4(pub [u8; 4]);

impl Ipv4 {
    pub const UNSPECIFIED: Ipv4 = Ipv4([0, 0, 0, 0]);

    pub fn is_unspecified(self) -> bool {
        self == Self::UNSPECIFIED
    }
}

impl fmt::Display for Ipv4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// Why an address did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrParseError(pub String);

impl fmt::Display for AddrParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddrParseError {}

impl FromStr for Ipv4 {
    type Err = AddrParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut octets = [0u8; 4];
        let mut parts = text.split('.');
        for octet in octets.iter_mut() {
            let part = parts.next().ok_or_else(|| AddrParseError(format!("`{text}` is not a dotted IPv4 address")))?;
            *octet = part.parse().map_err(|_| AddrParseError(format!("`{part}` in `{text}` is not an octet 0-255")))?;
        }
        if parts.next().is_some() {
            return Err(AddrParseError(format!("`{text}` has more than four octets")));
        }
        Ok(Ipv4(octets))
    }
}

/// An IPv4 address and a port, printed `10.0.0.1:55555` (and `*:55555` by `ss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SockAddr {
    pub ip: Ipv4,
    pub port: u16,
}

impl SockAddr {
    pub fn new(ip: Ipv4, port: u16) -> Self {
        SockAddr { ip, port }
    }

    /// The `ss` spelling: the wildcard address prints as `*`.
    pub fn ss(self) -> String {
        if self.ip.is_unspecified() {
            format!("*:{}", self.port)
        } else {
            self.to_string()
        }
    }

    /// The tcpdump spelling: `10.0.0.1.55555`.
    pub fn tcpdump(self) -> String {
        format!("{}.{}", self.ip, self.port)
    }
}

impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.ip, self.port)
    }
}

impl FromStr for SockAddr {
    type Err = AddrParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (ip, port) =
            text.rsplit_once(':').ok_or_else(|| AddrParseError(format!("`{text}` is not of the form address:port")))?;
        let ip = if ip == "*" { Ipv4::UNSPECIFIED } else { ip.parse()? };
        let port = port.parse().map_err(|_| AddrParseError(format!("`{port}` in `{text}` is not a port 0-65535")))?;
        Ok(SockAddr { ip, port })
    }
}

macro_rules! serde_as_string {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_string!(Ipv4);
serde_as_string!(SockAddr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let addr: SockAddr = "10.0.0.2:55555".parse().unwrap();
        assert_eq!(addr.to_string(), "10.0.0.2:55555");
        assert_eq!(addr.tcpdump(), "10.0.0.2.55555");
        let any: SockAddr = "*:99".parse().unwrap();
        assert_eq!(any.ss(), "*:99");
        assert_eq!(any.to_string(), "0.0.0.0:99");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in ["10.0.0", "10.0.0.256:1", "10.0.0.1", "10.0.0.1:70000", "a.b.c.d:1", "1.2.3.4.5:6"] {
            assert!(bad.parse::<SockAddr>().is_err(), "{bad} should not parse");
        }
    }
}
