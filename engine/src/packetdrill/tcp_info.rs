//! The `tcp_info` fields a script's assertions may read (`getsockopt(TCP_INFO)`, filled by
//! Linux's `tcp_get_info()`), from the engine's socket. Only fields the engine models are
//! given; any other is reported, so a script that asserts it is unsupported, not guessed.

use crate::socket::Socket;
use crate::tcp::own_mss;

/// Linux's `TCP_INFINITE_SSTHRESH`, which `tcpi_snd_ssthresh` shows before a loss.
const INFINITE_SSTHRESH: i64 = 0x7fff_ffff;

/// Field `name` (without `tcpi_`) of `socket` at `now_us`, if the engine models it.
pub fn field(socket: &Socket, now_us: u64, name: &str) -> Option<i64> {
    let tcb = &socket.tcb;
    let mss = i64::from(tcb.mss.max(1));
    Some(match name {
        // Linux counts the window in segments; the engine keeps it in bytes of the MSS.
        "snd_cwnd" => i64::from(tcb.cwnd) / mss,
        "snd_ssthresh" if tcb.ssthresh == u32::MAX => INFINITE_SSTHRESH,
        "snd_ssthresh" => i64::from(tcb.ssthresh) / mss,
        "snd_mss" => i64::from(tcb.mss),
        "advmss" => i64::from(own_mss(socket)),
        "rto" => tcb.rto_us as i64,
        "rtt" => tcb.srtt_us? as i64,
        "rttvar" => tcb.rttvar_us as i64,
        "state" => i64::from(socket.state.proc_code()),
        "retransmits" => i64::from(tcb.retransmits),
        // Milliseconds since the last segment with data (icsk_ack.lrcvtime).
        "last_data_recv" => (now_us.saturating_sub(tcb.last_rcv_at?) / 1000) as i64,
        _ => return None,
    })
}
