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

/// `ETHTOOL_STSO` (include/uapi/linux/ethtool.h): the legacy ethtool command that switches a
/// device's TCP segmentation offload on or off.
const ETHTOOL_STSO: u32 = 0x0000_001f;

/// Switches TCP segmentation offload off on `lo` in the current namespace, as
/// `ethtool -K lo tso off` does. Linux's TCP always builds GSO packets of several segments
/// (`sk_setup_caps()` adds NETIF_F_GSO for TCP); with TSO off the device cannot take them,
/// so `validate_xmit_skb()` cuts them into MSS-sized segments before the packet taps and the
/// receiver see them, which is what a real NIC puts on the wire.
pub fn loopback_tso_off() -> io::Result<()> {
    #[repr(C)]
    struct EthtoolValue {
        cmd: u32,
        data: u32,
    }
    let mut value = EthtoolValue { cmd: ETHTOOL_STSO, data: 0 };
    // SAFETY: a plain socket() call; the descriptor is closed below.
    let fd = check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    request.ifr_ifru.ifru_data = (&mut value as *mut EthtoolValue).cast();
    // SAFETY: SIOCETHTOOL reads the ethtool_value that ifr_data points to, which lives until
    // the call returns.
    let result = check(unsafe { libc::ioctl(fd, libc::SIOCETHTOOL as libc::Ioctl, &mut request) });
    // SAFETY: fd is ours and open.
    unsafe { libc::close(fd) };
    result.map(|_| ())
}

/// The inode number of the calling thread's network namespace (what `ip netns identify` and
/// `/proc/<pid>/ns/net` show): unique among the namespaces that exist at one time.
pub fn network_namespace_inode() -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())
}

/// Sets `net.ipv4.tcp_retries2` of the calling thread's network namespace. The sysctl is one
/// per namespace (`net->ipv4.sysctl_tcp_retries2`, read by `tcp_write_timeout()`), and a file
/// under /proc/sys/net belongs to the namespace of the thread that opens it. To make sure the
/// machine's own setting is never touched, the write is refused unless this thread is in
/// another namespace than the process's main thread (the validator runs each scenario on a
/// thread that has called `unshare(CLONE_NEWNET)`), and the value is read back.
pub fn set_namespace_tcp_retries2(retries2: u32) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    const PATH: &str = "/proc/sys/net/ipv4/tcp_retries2";
    if network_namespace_inode()? == std::fs::metadata("/proc/self/ns/net")?.ino() {
        return Err(io::Error::other("this thread is in the validator's own namespace, not a private one"));
    }
    std::fs::write(PATH, format!("{retries2}\n"))?;
    let read = std::fs::read_to_string(PATH)?;
    if read.trim() != retries2.to_string() {
        return Err(io::Error::other(format!("{PATH} reads {} after writing {retries2}", read.trim())));
    }
    Ok(())
}

/// sendto() with the datagram's source address chosen by an `IP_PKTINFO` control message
/// (`ipi_spec_dst`, ip(7)), for a socket bound to the wildcard address. On `lo` the kernel
/// would otherwise give every reply the route's preferred source, 127.0.0.1, whichever host
/// sends it; on a real network a host's only address is the source.
pub fn send_to_from(
    fd: RawFd,
    bytes: &[u8],
    to: std::net::SocketAddrV4,
    from: std::net::Ipv4Addr,
) -> io::Result<usize> {
    // SAFETY: sockaddr_in is plain old data; all zeroes is a valid value.
    let mut target: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    target.sin_family = libc::AF_INET as libc::sa_family_t;
    target.sin_port = to.port().to_be();
    target.sin_addr = libc::in_addr { s_addr: u32::from_ne_bytes(to.ip().octets()) };
    let info = libc::in_pktinfo {
        ipi_ifindex: 0,
        ipi_spec_dst: libc::in_addr { s_addr: u32::from_ne_bytes(from.octets()) },
        ipi_addr: libc::in_addr { s_addr: 0 },
    };
    // A buffer of u64s is aligned for cmsghdr; CMSG_SPACE of an in_pktinfo is 32 bytes.
    let mut control = [0u64; 8];
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<libc::in_pktinfo>() as u32) } as usize;
    if space > std::mem::size_of_val(&control) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    // SAFETY: msghdr is plain old data; all zeroes is a valid value.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_name = (&mut target as *mut libc::sockaddr_in).cast();
    message.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    message.msg_iov = &mut iov;
    message.msg_iovlen = 1;
    message.msg_control = control.as_mut_ptr().cast();
    message.msg_controllen = space as _;
    // SAFETY: the control buffer holds `space` bytes, enough for one cmsghdr with an
    // in_pktinfo, so CMSG_FIRSTHDR is non-null and CMSG_DATA points inside the buffer.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&message);
        (*header).cmsg_level = libc::IPPROTO_IP;
        (*header).cmsg_type = libc::IP_PKTINFO;
        (*header).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::in_pktinfo>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<libc::in_pktinfo>(), info);
    }
    // SAFETY: every pointer in `message` refers to a live buffer of the stated length; the
    // data is only read.
    let sent = unsafe { libc::sendmsg(fd, &message, libc::MSG_NOSIGNAL) };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

/// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT (tcp(7)): the per-socket forms of the
/// `tcp_keepalive_time`, `tcp_keepalive_intvl` and `tcp_keepalive_probes` sysctls, in seconds
/// and probes.
pub fn keepalive_timing(fd: RawFd, idle_s: u32, interval_s: u32, probes: u32) -> io::Result<()> {
    let int = |value: u32| libc::c_int::try_from(value).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL));
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, int(idle_s)?)?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, int(interval_s)?)?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, int(probes)?)
}

/// TCP_INQ on or off: recvmsg() then reports the bytes left to read.
pub fn set_tcp_inq(fd: RawFd, on: bool) -> io::Result<()> {
    let value: libc::c_int = on.into();
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value is one c_int, as TCP_INQ takes.
    check(unsafe { libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INQ, (&value as *const libc::c_int).cast(), len) })
        .map(drop)
}

/// Whether TCP_INQ is on.
pub fn tcp_inq(fd: RawFd) -> io::Result<bool> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len describe one c_int.
    check(unsafe {
        libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INQ, (&mut value as *mut libc::c_int).cast(), &mut len)
    })?;
    Ok(value != 0)
}

/// recv() of up to `len` bytes through recvmsg(), with the TCP_CM_INQ control message that
/// TCP_INQ adds: the count, and the bytes left to read when the kernel said.
pub fn recv_with_inq(fd: RawFd, len: usize) -> io::Result<(usize, Option<u32>)> {
    let mut buffer = vec![0u8; len];
    let mut iov = libc::iovec { iov_base: buffer.as_mut_ptr().cast(), iov_len: len };
    // Room for one control message of one int, aligned as cmsghdr needs.
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain old data; zeroes are valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: msg points at the buffer and the control area above, both alive for the call.
    let count = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if count < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut inq = None;
    // SAFETY: the CMSG_ macros walk the control area recvmsg() filled in, within
    // msg_controllen; each TCP_CM_INQ message carries one c_int.
    unsafe {
        let mut header = libc::CMSG_FIRSTHDR(&msg);
        while !header.is_null() {
            if (*header).cmsg_level == libc::SOL_TCP && (*header).cmsg_type == libc::TCP_CM_INQ {
                let value = std::ptr::read_unaligned(libc::CMSG_DATA(header).cast::<libc::c_int>());
                inq = Some(value.max(0) as u32);
            }
            header = libc::CMSG_NXTHDR(&msg, header);
        }
    }
    Ok((count as usize, inq))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    /// On this machine's own kernel, over loopback: recvmsg() with TCP_INQ reports what is left.
    #[test]
    fn tcp_inq_reports_the_bytes_left_to_read() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let mut client = TcpStream::connect(listener.local_addr().expect("bound")).expect("connects");
        let (server, _) = listener.accept().expect("accepts");
        super::set_tcp_inq(server.as_raw_fd(), true).expect("TCP_INQ is settable");
        assert!(super::tcp_inq(server.as_raw_fd()).expect("readable"));
        client.write_all(&[7u8; 3000]).expect("writes");
        // Wait until all of it has arrived.
        while super::inq(server.as_raw_fd()).expect("SIOCINQ") < 3000 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(super::recv_with_inq(server.as_raw_fd(), 1000).expect("reads"), (1000, Some(2000)));
        assert_eq!(super::recv_with_inq(server.as_raw_fd(), 5000).expect("reads"), (2000, Some(0)));
    }
}
