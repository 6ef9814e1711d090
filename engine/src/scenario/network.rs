//! The network of a scenario: hosts with their addresses, and the links between them with
//! their latency and MTU.

use serde::{Deserialize, Serialize};

use super::tcp_settings::TcpSettings;
use crate::addr::Ipv4;

/// A host: a name, one IPv4 address and its TCP settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub name: String,
    pub addr: Ipv4,
    #[serde(default)]
    pub tcp: TcpSettings,
}

/// A link between two hosts: one-way latency and MTU, the same both ways.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub a: String,
    pub b: String,
    #[serde(default = "default_latency_us")]
    pub latency_us: u64,
    #[serde(default = "default_mtu")]
    pub mtu: u32,
}

/// A link's one-way latency when the scenario gives none: 1 ms.
pub fn default_latency_us() -> u64 {
    1_000
}

/// A link's MTU when the scenario gives none: Ethernet's 1500 bytes.
pub fn default_mtu() -> u32 {
    1_500
}
