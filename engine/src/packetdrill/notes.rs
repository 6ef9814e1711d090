//! What a script's run says in its trace: a note for each line as the run reaches it, quoting
//! the line, and one for the verdict. The page narrates these notes as it does a scenario's,
//! so every step of a script's run shows the line it comes from.

use super::run::Verdict;

/// The note for a line the peer plays (an inbound segment).
pub fn inbound(line: u32, text: &str) -> String {
    format!("Script line {line}: the peer sends `{text}`.")
}

/// The note for a system call the script makes.
pub fn syscall(line: u32, text: &str) -> String {
    format!("Script line {line}: the program calls `{text}`.")
}

/// The note for a Python block's assertions on `tcp_info`.
pub fn python(line: u32, text: &str) -> String {
    format!("Script line {line}: the script checks the socket's tcp_info: `{text}`.")
}

/// The note put before the segment that meets, or does not meet, a `>` line.
pub fn outbound(line: u32, text: &str) -> String {
    format!("Script line {line}: the engine must send `{text}`.")
}

/// The note that ends the run.
pub fn verdict(verdict: &Verdict, text_of: impl Fn(u32) -> String) -> String {
    match verdict {
        Verdict::Pass => "The script passes: every segment and every call's result came as it says, within \
                          packetdrill's time tolerance."
            .to_string(),
        Verdict::Fail { line, expected, actual } => format!(
            "The script fails at line {line} (`{}`): it expects {expected}; the engine gives {actual}. \
             packetdrill stops at the first difference, and so does this run.",
            text_of(*line)
        ),
        Verdict::Unsupported { line, construct } => format!(
            "The run stops at line {line} (`{}`): sockscope does not model {construct}, so this script cannot \
             be judged here.",
            text_of(*line)
        ),
    }
}
