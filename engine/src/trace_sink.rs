//! Where a run's trace is written as it happens: the events in order, the numbering of
//! segments, and the event limit that stops a run that would go on too long.

use crate::trace::{Event, EventKind};

pub(crate) struct TraceSink {
    pub events: Vec<Event>,
    max_events: usize,
    /// An event was refused for the limit: the run stops.
    pub overflow: bool,
    last_segment_id: u64,
}

impl TraceSink {
    pub fn new(max_events: usize) -> TraceSink {
        TraceSink { events: Vec::new(), max_events, overflow: false, last_segment_id: 0 }
    }

    pub fn max_events(&self) -> usize {
        self.max_events
    }

    /// Records an event at time `now`, unless the limit is reached.
    pub fn emit(&mut self, now: u64, kind: EventKind) {
        if self.events.len() >= self.max_events {
            self.overflow = true;
            return;
        }
        self.events.push(Event { t_us: now, kind });
    }

    /// The id of the next segment put on the wire.
    pub fn next_segment_id(&mut self) -> u64 {
        self.last_segment_id += 1;
        self.last_segment_id
    }
}
