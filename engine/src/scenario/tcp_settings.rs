//! A host's TCP settings and their defaults, which are Linux's: the sysctls and kernel
//! constants a scenario may change, one field each.

use serde::{Deserialize, Serialize};

/// Per-host TCP settings. Every default is Linux's (see `docs/linux-model.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpSettings {
    /// Initial sequence numbers for this host's first connections, in order; later ones
    /// come from the world's RNG.
    pub isn: Vec<u32>,
    /// Ephemeral ports this host hands out first, in order; later ones are drawn from
    /// 32768-60999 (`ip_local_port_range`).
    pub ephemeral_ports: Vec<u16>,
    /// Maximum segment lifetime; TIME_WAIT lasts twice this (Linux: fixed 60 s).
    pub msl_ms: u64,
    /// Default SendQ capacity of a new socket in bytes (`tcp_wmem[1]`).
    pub sndbuf: u32,
    /// Default RecvQ capacity of a new socket in bytes (`tcp_rmem[1]`).
    pub rcvbuf: u32,
    /// MSS this host announces; default: the link MTU minus 40.
    pub mss: Option<u16>,
    /// Whether this host offers window scaling on its SYNs.
    pub window_scaling: bool,
    /// The shift this host announces when it offers window scaling.
    pub wscale: u8,
    /// Largest window this host advertises (Linux's window clamp / rcv_ssthresh).
    pub window_clamp: Option<u32>,
    /// Whether this host offers the timestamps option (RFC 7323) on its SYNs.
    pub timestamps: bool,
    /// Whether this host offers SACK on its SYNs (shown in options; SACK blocks are not modelled).
    pub sack: bool,
    /// Whether the receiver delays ACKs at all.
    pub delayed_ack: bool,
    /// The delayed-ACK timeout (`TCP_DELACK_MIN`).
    pub delack_ms: u64,
    /// At most this many segments are acked at once in quick-ACK mode (`TCP_MAX_QUICKACKS`).
    pub max_quickacks: u32,
    pub rto_initial_ms: u64,
    pub rto_min_ms: u64,
    pub rto_max_ms: u64,
    /// `tcp_syn_retries`.
    pub syn_retries: u32,
    /// `tcp_syn_linear_timeouts`: the first retransmissions keep the initial RTO.
    pub syn_linear_timeouts: u32,
    /// `tcp_synack_retries`.
    pub synack_retries: u32,
    /// `tcp_retries2`: data retransmissions before the connection is given up.
    pub retries2: u32,
    /// `tcp_fin_timeout`: lifetime of an orphaned FIN_WAIT2 socket.
    pub fin_timeout_ms: u64,
    pub keepalive_time_ms: u64,
    pub keepalive_intvl_ms: u64,
    pub keepalive_probes: u32,
    /// Initial congestion window in segments (`TCP_INIT_CWND`).
    pub initial_cwnd: u32,
    /// `net.core.somaxconn`: listen() backlogs are capped at this.
    pub somaxconn: u32,
    /// `tcp_abort_on_overflow`: answer a final ACK that finds the accept queue full with RST.
    pub abort_on_overflow: bool,
    /// `tcp_wmem[2]`: the largest SendQ the kernel grows a socket to (4 MiB).
    pub wmem_max: u32,
    /// The congestion-control module's name (`tcp_congestion_control`). Only its SendQ
    /// growth factor is modelled: 3 for `bbr`, 2 for the others.
    pub congestion_control: String,
}

impl Default for TcpSettings {
    fn default() -> Self {
        TcpSettings {
            isn: Vec::new(),
            ephemeral_ports: Vec::new(),
            msl_ms: 30_000,
            sndbuf: 16_384,
            rcvbuf: 131_072,
            mss: None,
            window_scaling: true,
            wscale: 7,
            window_clamp: None,
            timestamps: false,
            sack: false,
            delayed_ack: true,
            delack_ms: 40,
            max_quickacks: 16,
            rto_initial_ms: 1_000,
            rto_min_ms: 200,
            rto_max_ms: 120_000,
            syn_retries: 6,
            syn_linear_timeouts: 4,
            synack_retries: 5,
            retries2: 15,
            fin_timeout_ms: 60_000,
            keepalive_time_ms: 7_200_000,
            keepalive_intvl_ms: 75_000,
            keepalive_probes: 9,
            initial_cwnd: 10,
            somaxconn: 4096,
            abort_on_overflow: false,
            wmem_max: 4 << 20,
            congestion_control: "bbr".to_string(),
        }
    }
}
