//! This module holds the small helpers every task shares: the error type, locating the
//! repository root, making `~/.cargo/bin` visible to child processes, printing step banners
//! and running child processes with their command line echoed first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Every task reports failure as a human-readable message; `main` prints it and exits non-zero.
pub type Result<T = ()> = std::result::Result<T, String>;

/// Returns the workspace root, which is the parent of the xtask crate's directory.
///
/// `cargo run` sets `CARGO_MANIFEST_DIR` at run time too, so a moved checkout still works; the
/// compile-time value is only a fallback for running the binary directly.
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().map(Path::to_path_buf).unwrap_or(manifest_dir)
}

/// Returns the directory cargo places build output in (`CARGO_TARGET_DIR` or `<root>/target`).
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

/// Returns cargo's binary directory: `$CARGO_HOME/bin`, or `~/.cargo/bin` when unset.
pub fn cargo_bin_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home).join("bin"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|home| PathBuf::from(home).join(".cargo").join("bin"))
}

/// Puts cargo's binary directory at the front of `PATH` so that tools installed with
/// `cargo install` (trunk, wasm-bindgen) win over any other copy, in this process and in every
/// child it spawns. It must be called before any thread is started.
pub fn ensure_cargo_bin_on_path() {
    let Some(bin) = cargo_bin_dir() else {
        return;
    };
    let current = std::env::var_os("PATH").unwrap_or_default();
    let mut entries: Vec<PathBuf> = std::env::split_paths(&current).collect();
    if entries.first() == Some(&bin) {
        return;
    }
    entries.retain(|entry| entry != &bin);
    entries.insert(0, bin);
    if let Ok(joined) = std::env::join_paths(entries) {
        // Edition 2021: `set_var` is safe, and no other thread exists yet when this runs.
        std::env::set_var("PATH", joined);
    }
}

/// Reports whether this process runs as root on Linux (read from `/proc/self/status`, so no
/// libc binding is needed). Always false on other systems.
pub fn is_root_on_linux() -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|uids| uids.split_whitespace().next())
        .is_some_and(|real_uid| real_uid == "0")
}

/// Reports whether this machine is Debian-like, i.e. whether `apt-get` installs are expected.
pub fn is_debian() -> bool {
    Path::new("/etc/debian_version").exists()
}

/// Prints a step banner such as `==> [2/5] engine builds for wasm32`.
pub fn banner(text: &str) {
    println!("\n==> {text}");
}

/// Prints the line that records a skipped step and the reason it was skipped.
pub fn skipped(step: &str, why: &str) {
    println!("==> SKIPPED {step}: {why}");
}

/// Starts a `cargo` command; the rustup proxy on `PATH` honours `rust-toolchain.toml`.
pub fn cargo<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new("cargo");
    cmd.args(args);
    cmd
}

/// Renders a command the way a user would type it, including explicit env vars and cwd.
pub fn display(cmd: &Command) -> String {
    let mut out = String::new();
    if let Some(dir) = cmd.get_current_dir() {
        let _ = write!(out, "(cd {} && ", dir.display());
    }
    let inherited_path = std::env::var("PATH").unwrap_or_default();
    for (key, value) in cmd.get_envs() {
        let Some(value) = value else { continue };
        let value = value.to_string_lossy();
        // A PATH that only prepends to ours is shown as `PATH=<dirs>:$PATH` to keep it short.
        let shown = match value.strip_suffix(inherited_path.as_str()) {
            Some(prefix) if key == "PATH" && !inherited_path.is_empty() && prefix.ends_with(':') => {
                format!("{}$PATH", quote(prefix))
            }
            _ => quote(&value),
        };
        let _ = write!(out, "{}={shown} ", key.to_string_lossy());
    }
    out.push_str(&cmd.get_program().to_string_lossy());
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&quote(&arg.to_string_lossy()));
    }
    if cmd.get_current_dir().is_some() {
        out.push(')');
    }
    out
}

fn quote(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Echoes and runs a command with inherited stdio, failing unless it exits successfully.
pub fn run(cmd: &mut Command) -> Result {
    let shown = display(cmd);
    println!("$ {shown}");
    let status = cmd.status().map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Runs a command quietly and returns its stdout and stderr together, or `None` when it cannot
/// be started or exits unsuccessfully. Used for version probes and similar checks.
pub fn probe(cmd: &mut Command) -> Option<String> {
    let output = cmd.stdin(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Some(text)
}

/// Formats a byte count for humans, e.g. `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_when_needed() {
        let mut cmd = Command::new("cargo");
        cmd.args(["test", "--", "--test-threads=1", "two words"]);
        cmd.env("SOCKSCOPE_URL", "http://127.0.0.1:1/");
        assert_eq!(display(&cmd), "SOCKSCOPE_URL=http://127.0.0.1:1/ cargo test -- --test-threads=1 'two words'");

        let mut trunk = Command::new("trunk");
        let path = std::env::var("PATH").unwrap_or_default();
        trunk.env("PATH", format!("/opt/tools/bin:{path}"));
        if !path.is_empty() {
            assert_eq!(display(&trunk), "PATH=/opt/tools/bin:$PATH trunk");
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
    }
}
