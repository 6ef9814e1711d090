//! packetdrill scripts: the language Linux's TCP developers pin kernel behaviour with.
//!
//! A script plays the remote end of one connection: it makes system calls on the socket under
//! test, injects the segments its peer sends (`<`) and states each segment the socket must
//! send (`>`), each at a time. This module reads a script into a [`Script`] (`lexer.rs` for
//! the words, `parser.rs` for the grammar of TCP over IPv4, `script.rs` for what is read);
//! errors name the line and column. Reading never panics, whatever the text.

mod error;
mod lexer;
mod notes;
mod parser;
mod python;
mod run;
mod script;
mod settings;
mod tcp_info;

pub use error::ScriptError;
pub use run::{run, LineNote, Outcome, Verdict};
pub use script::{
    Action, Direction, Event, EventTime, Expr, Packet, PacketOptions, Script, ScriptOption, Syscall, TcpOption,
};

/// The longest script read, as for scenarios: a script is untrusted input.
pub const MAX_SCRIPT_BYTES: usize = 1 << 20;

/// Reads a script.
pub fn read(text: &str) -> Result<Script, ScriptError> {
    if text.len() > MAX_SCRIPT_BYTES {
        return Err(ScriptError {
            line: 1,
            column: 1,
            reason: format!("the script is {} bytes; at most {MAX_SCRIPT_BYTES} are read", text.len()),
        });
    }
    let mut script = parser::script(&lexer::tokens(text)?)?;
    script.source = text.lines().map(str::to_string).collect();
    Ok(script)
}

#[cfg(test)]
mod tests;
