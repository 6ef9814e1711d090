//! Linux's TCP constants and sysctl defaults that the machine uses, each with the kernel
//! name it comes from (docs/linux-model.md gathers them with their sources).

use crate::scenario::TcpSettings;
use crate::time::ms_to_us;

/// Linux's smallest default MSS estimate for a peer (`TCP_MSS_DEFAULT`), also the MSS
/// assumed when a SYN carries no MSS option (RFC 1122 4.2.2.6).
pub(crate) const TCP_MSS_DEFAULT: u32 = 536;

/// Bytes the timestamps option adds to every segment once negotiated.
pub(crate) const TIMESTAMPS_LEN: u32 = 12;

/// A TCP header without options (`sizeof(struct tcphdr)`).
pub(crate) const TCP_HEADER_LEN: u32 = 20;

/// `sysctl_rmem_max` / `sysctl_wmem_max`: setsockopt() can ask for at most this (doubled).
pub(crate) const RMEM_MAX: u32 = 212_992;

pub(crate) const WMEM_MAX: u32 = 212_992;

/// `SOCK_MIN_RCVBUF` and `SOCK_MIN_SNDBUF` as this kernel stores them.
pub(crate) const MIN_RCVBUF: u32 = 2_304;

pub(crate) const MIN_SNDBUF: u32 = 4_608;

/// `TCP_TIMEOUT_MIN`: two jiffies, 8 ms at the measured machine's HZ=250.
pub(crate) const TCP_TIMEOUT_MIN_JIFFIES_US: u64 = 8_000;

/// `TCP_TIMEOUT_MIN_US`: the 2 ms a tail loss probe waits beyond two round trips when
/// several segments are outstanding (`tcp_schedule_loss_probe()`).
pub(crate) const TCP_TIMEOUT_MIN_US: u64 = 2_000;

/// One jiffy at the measured machine's HZ=250 (docs/linux-model.md): the kernel's
/// timers count in jiffies, and `usecs_to_jiffies()` rounds a delay up to whole ones.
pub(crate) const JIFFY_US: u64 = 4_000;

/// `tcp_invalid_ratelimit`: at most one answer to out-of-window segments per 500 ms.
pub(crate) const TCP_INVALID_RATELIMIT_US: u64 = 500_000;

/// `TCP_RMEM_TO_WIN_SCALE`: scaling ratios are in 256ths.
pub(crate) const TCP_RMEM_TO_WIN_SCALE: u32 = 8;

/// `TCP_MIN_MSS`: the smallest MSS estimate Linux keeps for a peer.
pub(crate) const TCP_MIN_MSS: u32 = 88;
/// `MAX_TCP_WINDOW`: the largest TCP_MAXSEG value `do_tcp_setsockopt()` accepts.
pub(crate) const MAX_TCP_WINDOW: u32 = 32_767;

/// `TCP_MAX_WSCALE`.
pub(crate) const TCP_MAX_WSCALE: u32 = 14;

/// `sk_gso_max_size` as `sk_setup_caps()` sets it: the device's 64 KB GSO limit less
/// `MAX_TCP_HEADER` (320) and one byte. Neither an skb nor a TSO packet is larger.
pub(crate) const SK_GSO_MAX_SIZE: u32 = 65_536 - 320 - 1;

/// `sk_pacing_shift`'s default (10): a TSO packet should take about 1 ms (1/1024 s) at the
/// pacing rate (`tcp_tso_autosize()`).
pub(crate) const SK_PACING_SHIFT: u32 = 10;

/// `tcp_tso_rtt_log` (9): the min-RTT bonus of `tcp_tso_autosize()` halves every 512 us.
pub(crate) const TCP_TSO_RTT_LOG: u32 = 9;

/// `tcp_min_tso_segs` (2): the fewest segments a TSO packet may be sized for.
pub(crate) const TCP_MIN_TSO_SEGS: u32 = 2;

/// `tcp_pacing_ss_ratio` (200%) and `tcp_pacing_ca_ratio` (120%).
pub(crate) const TCP_PACING_SS_RATIO: u64 = 200;

pub(crate) const TCP_PACING_CA_RATIO: u64 = 120;

/// The `reason` a tail loss probe carries in the trace, for the narration.
pub(crate) const LOSS_PROBE_REASON: &str = "tail loss probe";

/// TIME_WAIT's length, 2MSL, in microseconds.
pub(crate) fn two_msl_us(tcp: &TcpSettings) -> u64 {
    ms_to_us(tcp.msl_ms).saturating_mul(2)
}

/// A delay rounded up to whole jiffies, as `usecs_to_jiffies()` does.
pub(crate) fn whole_jiffies(us: u64) -> u64 {
    us.div_ceil(JIFFY_US) * JIFFY_US
}
