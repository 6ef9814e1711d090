//! A segment as it crosses the simulated network, between the sender's TCP (or UDP) and the
//! receiver's: its header, its payload, and what the simulation keeps beside them.

use crate::addr::SockAddr;
use crate::trace::{Fate, Flags, Proto, Segment, SegmentHeader, TcpOptions};

/// MTU of a host's own loopback path (Linux `lo`).
pub const LOOPBACK_MTU: u32 = 65_536;

/// A segment on the wire.
#[derive(Clone, Debug)]
pub(crate) struct Wire {
    pub id: u64,
    /// The header; its `len` is always the payload's length (see [`Wire::set_payload`]).
    header: SegmentHeader,
    payload: Vec<u8>,
    pub retransmission: bool,
    /// The sender's initial sequence number, so faults can name relative sequence numbers.
    pub isn: Option<u32>,
    /// Why the segment was sent, when that is not the ordinary flow of data (a tail loss
    /// probe); the trace shows it as the sent segment's `reason`.
    pub why: Option<&'static str>,
    /// The ACK reports a duplicate segment in a D-SACK block (RFC 2883). SACK blocks are not
    /// drawn in the trace; the sender only uses this to end a tail loss probe episode.
    pub dsack: bool,
}

impl Wire {
    /// A segment with no payload, options or history, to be filled in by the sender.
    pub fn bare(proto: Proto, from: SockAddr, to: SockAddr, flags: Flags) -> Wire {
        let header =
            SegmentHeader { proto, from, to, flags, seq: 0, ack: 0, win: 0, len: 0, options: TcpOptions::default() };
        Wire { id: 0, header, payload: Vec::new(), retransmission: false, isn: None, why: None, dsack: false }
    }

    pub fn header_mut(&mut self) -> &mut SegmentHeader {
        &mut self.header
    }

    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub fn set_payload(&mut self, payload: Vec<u8>) {
        self.header.len = payload.len() as u32;
        self.payload = payload;
    }

    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }

    /// Sequence space the segment occupies: payload plus one for SYN and one for FIN.
    pub fn seq_len(&self) -> u32 {
        self.header.len + u32::from(self.header.flags.syn) + u32::from(self.header.flags.fin)
    }

    /// The segment as the trace shows it, with its fate.
    pub fn traced(&self, fate: Fate, reason: Option<String>) -> Segment {
        Segment { id: self.id, fate, header: self.header, reason, retransmission: self.retransmission }
    }
}

/// A wire segment reads as its header (`wire.seq`), as the TCP code that handles it asks.
impl std::ops::Deref for Wire {
    type Target = SegmentHeader;
    fn deref(&self) -> &SegmentHeader {
        &self.header
    }
}
