//! What a system call did, as the kernel half reports it to the process that made it.

use crate::errno::Errno;
use crate::trace::SocketId;

#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// It returned `value`, and maybe something to show beside it (such as an address).
    Done {
        value: i64,
        shown: Option<String>,
    },
    Failed(Errno),
    /// It must wait: on `socket` (None: only a timer wakes it), for `reason`.
    Block {
        socket: Option<SocketId>,
        reason: String,
    },
}

impl Outcome {
    /// A plain successful return of `value`.
    pub fn done(value: i64) -> Outcome {
        Outcome::Done { value, shown: None }
    }

    /// A wait on `socket` for `reason`.
    pub fn block_on(socket: SocketId, reason: impl Into<String>) -> Outcome {
        Outcome::Block { socket: Some(socket), reason: reason.into() }
    }
}
