//! The world's pending events, ordered by `(time, seq)` so that events due at the same
//! instant keep the order in which they were scheduled (turmoil-net's delivery queue).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::ids::HostId;
use crate::trace::{Pid, SocketId, TimerKind};
use crate::wire::Wire;

pub(crate) enum Pending {
    Deliver(Wire),
    Crash(HostId),
    Reboot(HostId),
    Drop(Wire, String),
    Timer { socket: SocketId, kind: TimerKind, deadline: u64 },
    Wake { pid: Pid, token: u64 },
}

#[derive(Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Reverse<(u64, u64, usize)>>,
    /// The events themselves, in reusable slots that the heap's entries point to.
    slots: Vec<Option<Pending>>,
    free_slots: Vec<usize>,
    seq: u64,
    /// Queued events that are not timers (deliveries, drops, wake-ups, crashes): the
    /// deadlock check needs to know whether anything but a timer can still happen.
    non_timer: usize,
}

impl EventQueue {
    pub fn schedule(&mut self, at: u64, pending: Pending) {
        if !matches!(pending, Pending::Timer { .. }) {
            self.non_timer += 1;
        }
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot] = Some(pending);
                slot
            }
            None => {
                self.slots.push(Some(pending));
                self.slots.len() - 1
            }
        };
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, slot)));
    }

    /// When the earliest pending event is due.
    pub fn next_time(&self) -> Option<u64> {
        self.heap.peek().map(|&Reverse((time, _, _))| time)
    }

    /// Takes the earliest pending event (every entry holds one; a slot is filled once per
    /// entry).
    pub fn pop(&mut self) -> Option<(u64, Option<Pending>)> {
        let Reverse((time, _, slot)) = self.heap.pop()?;
        let pending = self.slots[slot].take();
        if !matches!(pending, Some(Pending::Timer { .. }) | None) {
            self.non_timer -= 1;
        }
        self.free_slots.push(slot);
        Some((time, pending))
    }

    /// Whether anything but a timer is still queued.
    pub fn has_non_timer(&self) -> bool {
        self.non_timer > 0
    }
}
