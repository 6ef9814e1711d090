//! The errno values a simulated system call can fail with, spelled as Linux spells them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An error a system call returns. Names and meanings follow Linux's errno(3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum Errno {
    /// Bad file descriptor.
    EBADF,
    /// Invalid argument (for example listen() on a connected socket).
    EINVAL,
    /// The address is already in use.
    EADDRINUSE,
    /// No listener at the destination: the SYN was answered by RST.
    ECONNREFUSED,
    /// The peer reset the connection.
    ECONNRESET,
    /// Writing to a connection whose sending side is shut down (Linux also raises SIGPIPE).
    EPIPE,
    /// The operation would block on a nonblocking socket.
    EAGAIN,
    /// A nonblocking connect() has started.
    EINPROGRESS,
    /// A nonblocking connect() is still in progress.
    EALREADY,
    /// The socket is not connected.
    ENOTCONN,
    /// The socket is already connected.
    EISCONN,
    /// The connection timed out (SYN or data retransmissions exhausted).
    ETIMEDOUT,
    /// No route to the destination host.
    EHOSTUNREACH,
    /// The destination network is unreachable.
    ENETUNREACH,
    /// The address is not available on this host.
    EADDRNOTAVAIL,
    /// The operation is not supported on this socket.
    EOPNOTSUPP,
    /// Too many open files.
    EMFILE,
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Errno {
    pub const ALL: [Errno; 17] = [
        Errno::EBADF,
        Errno::EINVAL,
        Errno::EADDRINUSE,
        Errno::ECONNREFUSED,
        Errno::ECONNRESET,
        Errno::EPIPE,
        Errno::EAGAIN,
        Errno::EINPROGRESS,
        Errno::EALREADY,
        Errno::ENOTCONN,
        Errno::EISCONN,
        Errno::ETIMEDOUT,
        Errno::EHOSTUNREACH,
        Errno::ENETUNREACH,
        Errno::EADDRNOTAVAIL,
        Errno::EOPNOTSUPP,
        Errno::EMFILE,
    ];

    /// A short description in the words of strerror(3), for narration.
    pub fn describe(self) -> &'static str {
        match self {
            Errno::EBADF => "bad file descriptor",
            Errno::EINVAL => "invalid argument",
            Errno::EADDRINUSE => "address already in use",
            Errno::ECONNREFUSED => "connection refused",
            Errno::ECONNRESET => "connection reset by peer",
            Errno::EPIPE => "broken pipe",
            Errno::EAGAIN => "resource temporarily unavailable",
            Errno::EINPROGRESS => "operation now in progress",
            Errno::EALREADY => "operation already in progress",
            Errno::ENOTCONN => "transport endpoint is not connected",
            Errno::EISCONN => "transport endpoint is already connected",
            Errno::ETIMEDOUT => "connection timed out",
            Errno::EHOSTUNREACH => "no route to host",
            Errno::ENETUNREACH => "network is unreachable",
            Errno::EADDRNOTAVAIL => "cannot assign requested address",
            Errno::EOPNOTSUPP => "operation not supported",
            Errno::EMFILE => "too many open files",
        }
    }
}
