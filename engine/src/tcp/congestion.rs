//! Congestion control (Reno, as `tcp_reno_cong_avoid()`), the RTT estimate and the RTO
//! computed from it (RFC 6298 with Linux's bounds), and the pacing rate that sizes TSO
//! packets.

use crate::scenario::TcpSettings;
use crate::tcp::linux::*;
use crate::time::ms_to_us;

/// `tcp_update_pacing_rate()`: the current rate, mss * max(cwnd, packets_out) / srtt, times
/// 200% in slow start while the window is below half of ssthresh, else 120%. Without an RTT
/// sample the rate stays unlimited (Linux starts `sk_pacing_rate` at ~0UL).
pub(crate) fn update_pacing_rate(tcb: &mut crate::socket::Tcb) {
    let Some(srtt) = tcb.srtt_us else {
        tcb.pacing_rate = None;
        return;
    };
    let mss = u64::from(tcb.mss.max(1));
    let cwnd = u64::from(tcb.cwnd) / mss;
    let ssthresh = u64::from(tcb.ssthresh) / mss;
    let ratio = if cwnd < ssthresh / 2 { TCP_PACING_SS_RATIO } else { TCP_PACING_CA_RATIO };
    let segments = cwnd.max(tcb.unacked_segments.len() as u64);
    // mss * ratio% * segments per srtt microseconds, in bytes per second.
    let rate = mss.saturating_mul(ratio * 10_000).saturating_mul(segments) / srtt.max(1);
    tcb.pacing_rate = Some(rate);
}

/// `tcp_tso_autosize()` with `tcp_min_tso_segs`: how many segments of `mss_now` one TSO
/// packet may hold, so that it takes about 1 ms at the pacing rate, plus a bonus for close
/// peers (64 KB halved for every 512 us of min RTT), at most `sk_gso_max_size`, at least 2.
pub(crate) fn tso_autosize(tcb: &crate::socket::Tcb, mss_now: u32) -> u32 {
    let mut bytes = tcb.pacing_rate.map_or(u64::MAX, |rate| rate >> SK_PACING_SHIFT);
    if let Some(min_rtt) = tcb.min_rtt_us {
        let halvings = min_rtt >> TCP_TSO_RTT_LOG;
        if halvings < 32 {
            bytes = bytes.saturating_add(u64::from(SK_GSO_MAX_SIZE >> halvings));
        }
    }
    let bytes = bytes.min(u64::from(SK_GSO_MAX_SIZE)) as u32;
    (bytes / mss_now.max(1)).max(TCP_MIN_TSO_SEGS)
}

/// Reno's window growth for an ACK of `acked` segments, counted in segments as Linux does
/// (`tcp_reno_cong_avoid()`): below ssthresh slow start adds one segment per segment
/// acknowledged, however small, but stops at ssthresh (`tcp_slow_start()`); the segments
/// left over, and all of them above ssthresh, count towards congestion avoidance, which
/// adds one segment per window's worth of acknowledged segments (`tcp_cong_avoid_ai()`
/// with `snd_cwnd_cnt`). The window stays below 4 GB (saturating arithmetic).
pub(crate) fn reno_cong_avoid(tcb: &mut crate::socket::Tcb, acked: u32) {
    let mss = tcb.mss.max(1);
    let mut acked = acked;
    if tcb.cwnd < tcb.ssthresh {
        let to_ssthresh = (tcb.ssthresh - tcb.cwnd).div_ceil(mss);
        let used = acked.min(to_ssthresh);
        let grown = u64::from(tcb.cwnd) + u64::from(used) * u64::from(mss);
        tcb.cwnd = grown.min(u64::from(tcb.ssthresh)) as u32;
        acked -= used;
        if acked == 0 {
            return;
        }
    }
    let window = (tcb.cwnd / mss).max(1);
    if tcb.snd_cwnd_cnt >= window {
        // Credit gathered while the window was larger is applied gently now.
        tcb.snd_cwnd_cnt = 0;
        tcb.cwnd = tcb.cwnd.saturating_add(mss);
    }
    tcb.snd_cwnd_cnt = tcb.snd_cwnd_cnt.saturating_add(acked);
    if tcb.snd_cwnd_cnt >= window {
        let delta = tcb.snd_cwnd_cnt / window;
        tcb.snd_cwnd_cnt -= delta * window;
        tcb.cwnd = tcb.cwnd.saturating_add(delta.saturating_mul(mss));
    }
}

/// A host's timestamp clock in milliseconds, offset per host as real clocks are.
pub(crate) fn ts_clock(now_us: u64, addr: crate::addr::Ipv4) -> u32 {
    let offset = u32::from_be_bytes(addr.0).wrapping_mul(2_654_435_761);
    ((now_us / 1000) as u32).wrapping_add(offset)
}

/// RFC 6298 2.2-2.3: smoothed RTT and its variation.
pub(crate) fn rtt_sample(tcb: &mut crate::socket::Tcb, sample_us: u64, tcp: &TcpSettings) {
    let sample = sample_us.max(1);
    tcb.min_rtt_us = Some(tcb.min_rtt_us.map_or(sample, |min| min.min(sample)));
    match tcb.srtt_us {
        None => {
            tcb.srtt_us = Some(sample);
            tcb.rttvar_us = sample / 2;
        }
        Some(srtt) => {
            let delta = srtt.abs_diff(sample);
            tcb.rttvar_us = (3 * tcb.rttvar_us + delta) / 4;
            tcb.srtt_us = Some((7 * srtt + sample) / 8);
        }
    }
    tcb.rto_us = rto_from_estimate(tcb, tcp);
}

/// Linux's RTO: srtt plus the larger of 4*rttvar and rto_min, within [rto_min, rto_max]
/// (`tcp_set_rto()`, `TCP_RTO_MIN`, `TCP_RTO_MAX`).
pub(crate) fn rto_from_estimate(tcb: &crate::socket::Tcb, tcp: &TcpSettings) -> u64 {
    let min = ms_to_us(tcp.rto_min_ms);
    let max = ms_to_us(tcp.rto_max_ms);
    match tcb.srtt_us {
        None => ms_to_us(tcp.rto_initial_ms),
        Some(srtt) => srtt.saturating_add(tcb.rttvar_us.saturating_mul(4).max(min)).clamp(min, max),
    }
}

/// How long data retransmissions may go on before the connection is dropped: the time
/// `boundary` doublings from rto_min would take, capped at rto_max (`tcp_model_timeout()`);
/// 924.6 s for tcp_retries2 = 15.
pub(crate) fn retransmission_budget(boundary: u32, rto_min_us: u64, rto_max_us: u64) -> u64 {
    let threshold = (rto_max_us / rto_min_us.max(1)).max(1).ilog2();
    if boundary <= threshold {
        ((2u64 << boundary) - 1) * rto_min_us
    } else {
        ((2u64 << threshold) - 1) * rto_min_us + u64::from(boundary - threshold) * rto_max_us
    }
}
