//! The TCP machine: what one socket does with a system call, an arriving segment or an
//! expired timer, following Linux (`net/ipv4/tcp_input.c`, `tcp_output.c`,
//! `tcp_timer.c`).
//!
//! Every function takes the socket it works on and a narrow [`context::Cx`]: the time, the
//! host's settings and an effects sink. It never sees the world, other sockets or the
//! network; the world applies the effects (`world/effects.rs`). What is modelled and what
//! is not is written in `docs/fidelity.md`; the Linux facts the code relies on, with their
//! sources, in `docs/linux-model.md`.
//!
//! The files, from the bottom up (a file uses only those above it in this list):
//! `linux` (constants), `context`, `congestion` (Reno, RTT and RTO, pacing), `window`,
//! `timers`, `transition` (`set_state`), `segment` (one segment out), `rto` (the
//! retransmission and loss probe timers), `output` (`tcp_write_xmit()`), `open`
//! (connection setup), `recovery` (timeouts, fast retransmit, loss probes), `receive`
//! (data and FIN in), `ack` (the ACK field in), `input` (per state), `syscalls` and
//! `expiry` (what each timer does when it fires).

mod ack;
mod congestion;
pub(crate) mod context;
mod expiry;
mod input;
mod linux;
mod open;
mod output;
mod receive;
mod recovery;
mod rto;
mod segment;
mod syscalls;
pub(crate) mod timers;
mod transition;
mod window;

pub(crate) use expiry::on_timer;
pub(crate) use input::{answer_syn, segment_arrives, syn_received};
pub(crate) use segment::reset_for;
pub(crate) use syscalls::{
    close, connect, connect_in_progress, getsockopt, listen, recv, reset_unaccepted, send, setsockopt, shutdown,
    ConnectAttempt, Push,
};
pub(crate) use transition::{release, set_state};
pub(crate) use window::{compute_window, own_mss};

#[cfg(test)]
mod tests;
