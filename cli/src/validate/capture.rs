//! Capturing the segments on `lo`: an AF_PACKET socket in the run's own network namespace.
//!
//! On `lo` every packet passes the packet taps twice, once leaving and once arriving;
//! PACKET_IGNORE_OUTGOING keeps only the arriving copy (docs/linux-model.md, "Observing a
//! real kernel"). Frames carry a 14-byte all-zero Ethernet header. Only IPv4 TCP and UDP
//! are kept; the namespace holds nothing but the scenario, so no port filter is needed.
//! Parsing is by hand and never panics: a frame too short for what its headers claim is
//! skipped.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use sockscope_engine::trace::{Flags, Proto, SegmentHeader, TcpOptions};
use sockscope_engine::{Ipv4, SockAddr};

use super::compare::WireSegment;
use super::sys;

/// Bytes kept of each frame: Ethernet (14) + IPv4 (at most 60) + TCP (at most 60) headers.
const SNAPLEN: usize = 160;
const ETH_P_ALL: u16 = 0x0003;

/// A capture running on its own thread until [`Capture::finish`].
pub struct Capture {
    stop: Arc<AtomicBool>,
    socket: Arc<Socket>,
    thread: JoinHandle<Vec<WireSegment>>,
}

/// What a capture saw.
pub struct Captured {
    pub segments: Vec<WireSegment>,
    /// Packets the kernel could not queue for the capture (its buffer was full).
    pub drops: u32,
}

impl Capture {
    /// Opens the packet socket in the calling thread's namespace and starts reading.
    pub fn start() -> std::io::Result<Capture> {
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(i32::from(ETH_P_ALL.to_be()))))?;
        sys::packet_ignore_outgoing(socket.as_raw_fd())?;
        // 64 MiB: a bulk transfer on lo sends 64 KB segments, each charged in full.
        sys::force_receive_buffer(socket.as_raw_fd(), 64 << 20)?;
        socket.set_read_timeout(Some(Duration::from_millis(5)))?;
        let socket = Arc::new(socket);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (socket, stop) = (Arc::clone(&socket), Arc::clone(&stop));
            std::thread::Builder::new().name("capture".into()).spawn(move || read_frames(&socket, &stop))?
        };
        Ok(Capture { stop, socket, thread })
    }

    /// Stops reading once the queue is drained and returns what was seen.
    pub fn finish(self) -> Captured {
        self.stop.store(true, Ordering::SeqCst);
        let segments = self.thread.join().unwrap_or_default();
        let drops = sys::packet_drops(self.socket.as_raw_fd()).unwrap_or(0);
        Captured { segments, drops }
    }
}

fn read_frames(socket: &Socket, stop: &AtomicBool) -> Vec<WireSegment> {
    let mut segments = Vec::new();
    let mut frame = [0u8; SNAPLEN];
    let mut reader = socket;
    loop {
        match reader.read(&mut frame) {
            Ok(len) => {
                let t_us = sys::monotonic_us();
                if let Some(segment) = parse_frame(&frame[..len.min(SNAPLEN)], t_us) {
                    segments.push(segment);
                }
            }
            Err(err) if matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                // Nothing queued: stop if asked, otherwise wait for more.
                if stop.load(Ordering::SeqCst) {
                    break;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    segments
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?, *bytes.get(at + 2)?, *bytes.get(at + 3)?]))
}

/// Parses one captured frame (Ethernet + IPv4 + TCP/UDP headers, possibly cut at SNAPLEN).
pub fn parse_frame(frame: &[u8], t_us: u64) -> Option<WireSegment> {
    if be16(frame, 12)? != 0x0800 {
        return None;
    }
    let ip = frame.get(14..)?;
    let version_ihl = *ip.first()?;
    if version_ihl >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(version_ihl & 0x0f) * 4;
    let total = usize::from(be16(ip, 2)?);
    let protocol = *ip.get(9)?;
    let src = Ipv4([*ip.get(12)?, *ip.get(13)?, *ip.get(14)?, *ip.get(15)?]);
    let dst = Ipv4([*ip.get(16)?, *ip.get(17)?, *ip.get(18)?, *ip.get(19)?]);
    if ihl < 20 || total < ihl {
        return None;
    }
    let l4 = ip.get(ihl..)?;
    let (sport, dport) = (be16(l4, 0)?, be16(l4, 2)?);
    let from = SockAddr::new(src, sport);
    let to = SockAddr::new(dst, dport);
    match protocol {
        17 => Some(WireSegment {
            t_us,
            header: SegmentHeader {
                proto: Proto::Udp,
                from,
                to,
                flags: Flags::default(),
                seq: 0,
                ack: 0,
                win: 0,
                len: u32::from(be16(l4, 4)?).saturating_sub(8),
                options: TcpOptions::default(),
            },
        }),
        6 => {
            let offset = usize::from(*l4.get(12)? >> 4) * 4;
            let bits = *l4.get(13)?;
            if offset < 20 || total < ihl + offset {
                return None;
            }
            let flags = Flags {
                fin: bits & 0x01 != 0,
                syn: bits & 0x02 != 0,
                rst: bits & 0x04 != 0,
                psh: bits & 0x08 != 0,
                ack: bits & 0x10 != 0,
            };
            let options = parse_options(l4.get(20..offset)?);
            Some(WireSegment {
                t_us,
                header: SegmentHeader {
                    proto: Proto::Tcp,
                    from,
                    to,
                    flags,
                    seq: be32(l4, 4)?,
                    ack: be32(l4, 8)?,
                    win: be16(l4, 14)?,
                    len: (total - ihl - offset) as u32,
                    options,
                },
            })
        }
        _ => None,
    }
}

/// The TCP options the engine knows (RFC 793 MSS, RFC 2018 SACK-permitted, RFC 7323
/// window scale and timestamps); others are skipped.
fn parse_options(mut bytes: &[u8]) -> TcpOptions {
    let mut options = TcpOptions::default();
    while let Some(&kind) = bytes.first() {
        match kind {
            0 => break,
            1 => {
                bytes = &bytes[1..];
                continue;
            }
            _ => {}
        }
        let Some(&len) = bytes.get(1) else { break };
        let len = usize::from(len);
        if len < 2 || len > bytes.len() {
            break;
        }
        let body = &bytes[2..len];
        match (kind, body.len()) {
            (2, 2) => options.mss = be16(body, 0),
            (3, 1) => options.wscale = Some(body[0]),
            (4, 0) => options.sack_ok = true,
            (8, 8) => options.ts = Some((be32(body, 0).unwrap_or(0), be32(body, 4).unwrap_or(0))),
            _ => {}
        }
        bytes = &bytes[len..];
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SYN from 127.0.0.1:44008 to 127.0.0.2:55555 as lo carries it, with Linux's options.
    fn syn_frame() -> Vec<u8> {
        let mut frame = vec![0u8; 12];
        frame.extend([0x08, 0x00]);
        let tcp_options = [2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 10];
        let tcp_len = 20 + tcp_options.len();
        let total = (20 + tcp_len) as u16;
        frame.extend([
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
            127,
            0,
            0,
            1,
            127,
            0,
            0,
            2,
        ]);
        frame.extend(44008u16.to_be_bytes());
        frame.extend(55555u16.to_be_bytes());
        frame.extend(1000u32.to_be_bytes());
        frame.extend(0u32.to_be_bytes());
        frame.extend([((tcp_len / 4) << 4) as u8, 0x02]);
        frame.extend(65495u16.to_be_bytes());
        frame.extend([0, 0, 0, 0]);
        frame.extend(tcp_options);
        frame
    }

    #[test]
    fn a_linux_syn_parses_with_its_options() {
        let segment = parse_frame(&syn_frame(), 7).expect("a valid SYN");
        assert_eq!(segment.from.to_string(), "127.0.0.1:44008");
        assert_eq!(segment.to.to_string(), "127.0.0.2:55555");
        assert_eq!(segment.flags, Flags::SYN);
        assert_eq!((segment.seq, segment.win, segment.len), (1000, 65495, 0));
        assert_eq!(segment.options.tcpdump(), "[mss 65495,sackOK,TS val 1 ecr 0,nop,wscale 10]");
    }

    #[test]
    fn every_truncation_is_rejected_or_parsed_without_panic() {
        let frame = syn_frame();
        for cut in 0..frame.len() {
            let _ = parse_frame(&frame[..cut], 0);
        }
        assert!(parse_frame(&frame[..30], 0).is_none());
    }
}
