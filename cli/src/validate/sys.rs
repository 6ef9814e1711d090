//! The few Linux calls socket2 and std do not wrap, each in a small safe function.
//!
//! Every `unsafe` block here passes a correctly sized, initialised buffer to a system call
//! that writes at most that many bytes, and checks the return value.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::RawFd;

/// Microseconds of CLOCK_MONOTONIC: the clock every observation is stamped with, and the
/// clock the trace instance is told to use (`trace_clock` = `mono`).
pub fn monotonic_us() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec for clock_gettime to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    if rc != 0 {
        return 0;
    }
    now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1_000
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Moves the calling thread into a new, empty network namespace (threads it spawns later
/// inherit it). Needs CAP_SYS_ADMIN.
pub fn unshare_network() -> io::Result<()> {
    // SAFETY: unshare takes a flag word and touches no memory of ours.
    check(unsafe { libc::unshare(libc::CLONE_NEWNET) }).map(|_| ())
}

/// Brings `lo` up in the current namespace (a new namespace starts with it down).
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: a plain socket() call; the descriptor is closed below.
    let fd = check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS / SIOCSIFFLAGS read and write the ifreq we pass.
    let result = unsafe {
        check(libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request)).and_then(|_| {
            request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            check(libc::ioctl(fd, libc::SIOCSIFFLAGS, &request))
        })
    };
    // SAFETY: fd is ours and open.
    unsafe { libc::close(fd) };
    result.map(|_| ())
}

fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the option value is a c_int of the size we pass.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// IP_BIND_ADDRESS_NO_PORT: bind() to an address with port 0 leaves the port for connect()
/// to choose, as an unbound connect() would.
pub fn bind_address_no_port(fd: RawFd) -> io::Result<()> {
    set_int(fd, libc::IPPROTO_IP, libc::IP_BIND_ADDRESS_NO_PORT, 1)
}

/// PACKET_IGNORE_OUTGOING: a packet socket on `lo` sees each packet once, on receipt.
pub fn packet_ignore_outgoing(fd: RawFd) -> io::Result<()> {
    set_int(fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1)
}

/// SO_RCVBUFFORCE: a receive buffer above rmem_max (root only), so that a capture of
/// 64 KB loopback segments does not overflow.
pub fn force_receive_buffer(fd: RawFd, bytes: i32) -> io::Result<()> {
    set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, bytes)
}

/// Packets the kernel dropped because the capture socket's buffer was full.
pub fn packet_drops(fd: RawFd) -> io::Result<u32> {
    let mut stats = libc::tpacket_stats { tp_packets: 0, tp_drops: 0 };
    let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: stats and len describe a buffer of the right size.
    check(unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&mut stats as *mut libc::tpacket_stats).cast(),
            &mut len,
        )
    })?;
    Ok(stats.tp_drops)
}

/// TCP_INFO's state and, for a listener, its accept queue length (`tcpi_unacked`).
pub fn tcp_state_and_backlog(fd: RawFd) -> io::Result<(u8, u32)> {
    // SAFETY: tcp_info is plain old data; zeroes are valid.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: info and len describe a buffer of the right size.
    check(unsafe {
        libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, (&mut info as *mut libc::tcp_info).cast(), &mut len)
    })?;
    Ok((info.tcpi_state, info.tcpi_unacked))
}

fn ioctl_int(fd: RawFd, request: libc::Ioctl) -> io::Result<u32> {
    let mut value: libc::c_int = 0;
    // SAFETY: SIOCINQ / SIOCOUTQ write one c_int.
    check(unsafe { libc::ioctl(fd, request, &mut value) })?;
    Ok(value.max(0) as u32)
}

/// SIOCINQ: unread bytes in the receive queue (a FIN is not counted).
pub fn inq(fd: RawFd) -> io::Result<u32> {
    ioctl_int(fd, libc::FIONREAD)
}

/// SIOCOUTQ: bytes written and not yet acknowledged.
pub fn outq(fd: RawFd) -> io::Result<u32> {
    ioctl_int(fd, libc::TIOCOUTQ)
}

/// The running kernel's release, e.g. `6.18.44`.
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}
