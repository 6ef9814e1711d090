//! `tcp_write_xmit()`: what SendQ, the peer's window, the congestion window and Nagle let
//! go out now, cut into TSO packets, and the bookkeeping of every segment sent.

use crate::socket::{seq_gt, seq_le, seq_lt, Socket};
use crate::tcp::congestion::tso_autosize;
use crate::tcp::context::Cx;
use crate::tcp::linux::*;
use crate::tcp::rto::{retransmit_timer_after_send, schedule_loss_probe, RtoClock};
use crate::tcp::segment::{copy_range, send_outgoing, Outgoing, Transmission};
use crate::tcp::timers::ensure_timer;
use crate::time::ms_to_us;
use crate::trace::{Flags, TcpOptions, TimerKind};

/// How `write_xmit()` sends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum XmitMode {
    /// As much as the windows, Nagle and TCP_CORK allow.
    Normal,
    /// As `Normal`, but a last segment smaller than the MSS waits: a send() with MSG_MORE
    /// (`tcp_push()` pushes with `TCP_NAGLE_CORK`).
    MoreFollows,
    /// As `Normal`, but a last segment smaller than the MSS goes whatever Nagle or TCP_CORK
    /// says (`TCP_NAGLE_PUSH`: TCP_NODELAY was just set, or the cork pulled under it).
    Push,
    /// One segment of waiting data, whatever the congestion window, Nagle or TCP_CORK say,
    /// marked PSH: the probe timer found data held back with nothing in flight
    /// (`tcp_write_wakeup()`).
    Wakeup,
    /// One segment for a tail loss probe, whatever the congestion window and Nagle say
    /// (`tcp_send_loss_probe()` calls `tcp_write_xmit()` with `push_one` = 2 and
    /// `TCP_NAGLE_OFF`).
    LossProbe,
}

/// Sends what SendQ, the peer's window, the congestion window and Nagle allow
/// (tcp_write_xmit()), then a FIN if one is queued and everything before it is out.
pub(crate) fn tcp_output(s: &mut Socket, cx: &mut Cx<'_>) {
    write_xmit(s, cx, XmitMode::Normal);
}

/// `tcp_write_xmit()`. With `loss_probe` it sends at most one segment and ignores the
/// congestion window and Nagle, as a tail loss probe that sends new data does
/// (`tcp_send_loss_probe()` calls it with `push_one` = 2 and `TCP_NAGLE_OFF`). Returns
/// whether it sent anything.
pub(crate) fn write_xmit(s: &mut Socket, cx: &mut Cx<'_>, mode: XmitMode) -> bool {
    // Data and FIN follow the SYN: while the SYN itself is what must go (again), nothing else
    // can.
    if s.tcb.snd_nxt == s.tcb.iss {
        return false;
    }
    let loss_probe = mode == XmitMode::LossProbe;
    // A probe sends one segment, whatever the congestion window says.
    let one_segment = matches!(mode, XmitMode::LossProbe | XmitMode::Wakeup);
    if !s.state.may_transmit() {
        return false;
    }
    let mut sent_new = false;
    // The segments of the TSO packet being built, and how many it may hold.
    let mut packet: Vec<Outgoing> = Vec::new();
    let mut packet_quota = 1;
    loop {
        let now = cx.now;
        let delack = ms_to_us(cx.tcp.delack_ms);
        let socket = &*s;
        let tcb = &socket.tcb;
        let (unsent, fin_unsent) = (tcb.unsent(), tcb.fin_unsent());
        let in_flight = socket.in_flight();
        // Linux's mss_now: our MSS toward the peer, at most half its largest window.
        let mss_now = tcb.mss_now();
        if unsent > 0 {
            let unsent = unsent as u32;
            let room = tcb.snd_wnd.saturating_sub(in_flight);
            // A loss probe goes out whatever the congestion window says.
            let cwnd_room = if one_segment { u32::MAX } else { tcb.cwnd.saturating_sub(in_flight) };
            // MSG_EOR: no segment reaches past the end of a record.
            let record_end = tcb.record_ends.iter().find(|&&end| seq_gt(end, tcb.snd_nxt)).copied();
            let to_record_end = record_end.map_or(u32::MAX, |end| end.wrapping_sub(tcb.snd_nxt));
            let len = unsent.min(mss_now).min(room).min(cwnd_room).min(to_record_end);
            let ends_record = len == to_record_end;
            if len == 0 {
                if room == 0 && in_flight == 0 {
                    let backoff = tcb.rto_us.max(ms_to_us(cx.tcp.rto_min_ms));
                    ensure_timer(s, cx, TimerKind::Persist, now + backoff);
                }
                break;
            }
            if len < mss_now {
                let is_tail = len == unsent;
                if !is_tail && !ends_record && in_flight > 0 {
                    // Sender-side silly window avoidance: wait for a bigger window.
                    break;
                }
                // tcp_nagle_check(): TCP_CORK or MSG_MORE holds a small last segment (one
                // that carries the FIN never waits); otherwise Nagle (RFC 896) with
                // Minshall's refinement holds it while an earlier small segment is
                // unacknowledged.
                let nagle = !socket.nodelay && in_flight > 0 && seq_gt(tcb.snd_sml, tcb.snd_una);
                let held = is_tail
                    && !tcb.fin_queued
                    && match mode {
                        XmitMode::LossProbe | XmitMode::Wakeup | XmitMode::Push => false,
                        XmitMode::MoreFollows => true,
                        XmitMode::Normal => socket.cork || nagle,
                    };
                if held {
                    if in_flight == 0 {
                        // tcp_check_probe_timer(): with nothing in flight no ACK will come
                        // to push it, so the probe timer will, after the RTO.
                        let base = tcb.rto_us.max(ms_to_us(cx.tcp.rto_min_ms));
                        ensure_timer(s, cx, TimerKind::Persist, now + base);
                    }
                    break;
                }
            }
            let seq = tcb.snd_nxt;
            let offset = seq.wrapping_sub(tcb.snd_una) as usize;
            let payload = copy_range(&tcb.send_buf, offset, len as usize);
            let end = seq.wrapping_add(len);
            let with_fin = tcb.fin_queued && end == tcb.write_seq;
            let retransmission = seq_lt(seq, tcb.snd_max);
            let transmission = if retransmission { Transmission::Retransmission } else { Transmission::First };
            // PSH marks the end of what the application has written, and also any segment
            // that ends more than half the peer's largest window after the last PSH
            // (forced_push(), tcp_mark_push()).
            let forced = end.wrapping_sub(tcb.pushed_seq) > tcb.max_window / 2 && seq_gt(end, tcb.pushed_seq);
            let psh = (end == tcb.write_seq && tcb.unpushed_end != Some(end))
                || forced
                || ends_record
                || mode == XmitMode::Wakeup;
            let flags = Flags { ack: true, psh, fin: with_fin, ..Flags::default() };
            // Linux compares with the ACK timeout `ato`, which stays 0 until the first data
            // segment arrives (tcp_event_data_recv()), so a request sent right after the
            // handshake does not count as a reply (tcp_event_data_sent()).
            let replying = tcb.rcv_mss > 0 && tcb.last_rcv_at.is_some_and(|at| now.saturating_sub(at) < delack);
            let tcb = &mut s.tcb;
            tcb.snd_nxt = end.wrapping_add(u32::from(with_fin));
            if len < mss_now {
                tcb.snd_sml = end;
            }
            if psh && seq_gt(end, tcb.pushed_seq) {
                tcb.pushed_seq = end;
            }
            if tcb.rtt_probe.is_none() && !retransmission {
                tcb.rtt_probe = Some((tcb.snd_nxt, now));
            }
            if replying {
                // A reply within the ACK delay of the last data received: interactive
                // ("pingpong") mode, so ACKs will ride on replies (tcp_event_data_sent()).
                tcb.pingpong = true;
            }
            let segment = Outgoing { flags, seq, payload, transmission, why: loss_probe.then_some(LOSS_PROBE_REASON) };
            if retransmission || one_segment {
                sent_new |= transmit_packet(s, cx, &mut packet);
                sent_new |= transmit_packet(s, cx, &mut vec![segment]);
            } else {
                if packet.is_empty() {
                    packet_quota = tso_packet_quota(s, cx);
                }
                packet.push(segment);
                // A TSO packet ends where the written data (an skb) ends, or when it
                // holds as many segments as the congestion window lets one packet take.
                if psh || with_fin || packet.len() as u32 >= packet_quota {
                    sent_new |= transmit_packet(s, cx, &mut packet);
                }
            }
            if with_fin || one_segment {
                break;
            }
            continue;
        }
        sent_new |= transmit_packet(s, cx, &mut packet);
        let tcb = &s.tcb;
        if fin_unsent && tcb.snd_nxt == tcb.write_seq {
            let seq = tcb.snd_nxt;
            let retransmission = seq_lt(seq, tcb.snd_max);
            s.tcb.snd_nxt = seq.wrapping_add(1);
            let fin = Outgoing {
                flags: Flags { fin: true, ack: true, ..Flags::default() },
                seq,
                payload: Vec::new(),
                transmission: if retransmission { Transmission::Retransmission } else { Transmission::First },
                why: loss_probe.then_some(LOSS_PROBE_REASON),
            };
            sent_new |= transmit_packet(s, cx, &mut vec![fin]);
        }
        break;
    }
    sent_new |= transmit_packet(s, cx, &mut packet);
    // tcp_write_xmit(): after sending new data, schedule one loss probe per tail loss
    // episode, unless this was the probe itself.
    if sent_new && !loss_probe {
        schedule_loss_probe(s, cx, RtoClock::FromOldestSegment);
    }
    sent_new
}

/// How many segments the next TSO packet may carry. `tcp_write_xmit()` cuts a packet
/// from the head skb at min(`tcp_cwnd_test()`, `tcp_tso_segs()`) segments
/// (`tcp_mss_split_point()`): what the congestion window leaves, at most half of it so
/// that at least two packets are in flight, and the pacing-rate size of
/// `tcp_tso_autosize()` (2 segments at a 20 ms round trip, 64 KB on loopback). A packet
/// never spans two skbs, which `tcp_sendmsg()` fills to the size goal
/// (`tcp_xmit_size_goal()`); they are taken as full here. The window is counted in
/// segments, as Linux's `snd_cwnd`.
pub(crate) fn tso_packet_quota(s: &Socket, _cx: &Cx<'_>) -> u32 {
    let tcb = &s.tcb;
    let cwnd = (tcb.cwnd / tcb.mss.max(1)).max(1);
    let in_flight = tcb.unacked_segments.len() as u32;
    let cwnd_quota = (cwnd / 2).max(1).min(cwnd.saturating_sub(in_flight)).max(1);
    let mss_now = tcb.mss_now().max(1);
    let skb_segments = (tcb.size_goal() / mss_now).max(1);
    cwnd_quota.min(tso_autosize(tcb, mss_now)).min(skb_segments)
}

/// Puts the segments of one TSO packet on the wire, one per MSS as a device without
/// segmentation offload does (`lo` as the validator sets it up, or software GSO). Linux
/// marks PSH on every packet of more than one segment, which after segmentation shows
/// on its last segment only (`__tcp_transmit_skb()`: "Force a PSH flag on all (GSO)
/// packets", `tcp_gso_segment()`). Returns whether any segment carried new data.
pub(crate) fn transmit_packet(s: &mut Socket, cx: &mut Cx<'_>, packet: &mut Vec<Outgoing>) -> bool {
    if packet.len() > 1 && !s.tcb.more_follows {
        if let Some(last) = packet.last_mut() {
            last.flags.psh = true;
        }
    }
    let mut sent_new = false;
    for segment in packet.drain(..) {
        sent_new |= record_transmission(s, cx, segment.seq, segment.end());
        send_outgoing(s, cx, segment, TcpOptions::default());
        retransmit_timer_after_send(s, cx);
    }
    sent_new
}

/// Notes that `[seq, end)` (a FIN counting one) was transmitted now: a new segment joins
/// the unacknowledged ones and moves snd_max; a resent one gets a new transmission time.
/// Returns whether the segment carried anything never sent before.
///
/// Linux keeps its retransmission queue as an rbtree of skbs and stamps only the skb it
/// sends (`tcp_transmit_skb()` sets `skb_mstamp_ns`); here the queue is a deque sorted
/// by where each segment ends, so new data (at or beyond snd_max) touches nothing and a
/// retransmission finds its first segment by binary search and stops at its end. A
/// scan of the whole queue for every segment sent made bulk transfers with large
/// windows quadratic.
pub(crate) fn record_transmission(s: &mut Socket, cx: &mut Cx<'_>, seq: u32, end: u32) -> bool {
    let now = cx.now;
    let tcb = &mut s.tcb;
    if seq_lt(seq, tcb.snd_max) {
        // The queue's ends all lie within one window after snd_una, so "ends at or
        // before seq" holds for a prefix of it.
        let first = tcb.unacked_segments.partition_point(|&(segment_end, _)| seq_le(segment_end, seq));
        for (segment_end, sent_at) in tcb.unacked_segments.range_mut(first..) {
            if seq_gt(*segment_end, end) {
                break;
            }
            *sent_at = now;
        }
    }
    if seq_gt(end, tcb.snd_max) {
        tcb.snd_max = end;
        tcb.unacked_segments.push_back((end, now));
        return true;
    }
    false
}
