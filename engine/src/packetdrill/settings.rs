//! What a script sets before it runs: its options (`--tolerance_usecs=…`) and the host's TCP
//! settings its shell lines make (a `defaults.sh` and `sysctl -q net.ipv4.…=…`).
//!
//! packetdrill's suite runs a `defaults.sh` that sets production values; the ones the engine
//! models are taken (the buffer sizes' defaults, timestamps, SACK, the SYN and SYN+ACK retry
//! counts), and the rest are listed as ignored, so that a report says what was not honoured.

use crate::scenario::TcpSettings;

use super::script::{Action, Script};

pub struct Settings {
    pub tcp: TcpSettings,
    pub mtu: u32,
    pub tolerance_us: u64,
    pub tolerance_percent: f64,
    /// Options and settings the engine took no notice of, said in a sentence each.
    pub ignored: Vec<String>,
    /// The first line the engine cannot honour at all.
    pub unsupported: Option<(u32, String)>,
}

/// packetdrill's defaults: 4 ms or 12.5 % of the time since the previous event.
const TOLERANCE_US: u64 = 4_000;
const TOLERANCE_PERCENT: f64 = 12.5;

/// The settings of packetdrill's `defaults.sh` that the engine has, as `sysctl` names them.
const DEFAULTS: &[(&str, &str)] = &[
    ("tcp_rmem", "4096 540000 15728640"),
    ("tcp_wmem", "4096 262144 4194304"),
    ("tcp_timestamps", "1"),
    ("tcp_syn_retries", "5"),
    ("tcp_synack_retries", "5"),
    ("tcp_sack", "1"),
    ("tcp_slow_start_after_idle", "0"),
];

/// The settings of `defaults.sh` that the engine does not model.
const DEFAULTS_IGNORED: &[&str] = &[
    "tcp_frto=2",
    "tcp_dsack=1",
    "tcp_fack=0",
    "tcp_reordering=3",
    "tcp_congestion_control=cubic",
    "tcp_early_retrans=4",
    "tcp_recovery=1",
];

pub fn read(script: &Script) -> Settings {
    let mut settings = Settings {
        tcp: TcpSettings::default(),
        mtu: 1500,
        tolerance_us: TOLERANCE_US,
        tolerance_percent: TOLERANCE_PERCENT,
        ignored: Vec::new(),
        unsupported: None,
    };
    for option in &script.options {
        let refused = |what: &str| Some((option.line, format!("--{}={} ({what})", option.name, option.value)));
        let problem = match option.name.as_str() {
            "tolerance_usecs" => match option.value.parse::<u64>() {
                Ok(value) if (1..=60_000_000).contains(&value) => {
                    settings.tolerance_us = value;
                    None
                }
                _ => refused("a number of microseconds from 1 to 60000000"),
            },
            "tolerance_percent" => match option.value.parse::<f64>() {
                Ok(value) if (0.0..=100.0).contains(&value) => {
                    settings.tolerance_percent = value;
                    None
                }
                _ => refused("not a percentage"),
            },
            "mtu" => match option.value.parse() {
                Ok(value) if (576..=65_536).contains(&value) => {
                    settings.mtu = value;
                    None
                }
                _ => refused("an MTU between 576 and 65536"),
            },
            "ip_version" if option.value == "ipv4" => None,
            "ip_version" => refused("only ipv4 is modelled"),
            _ => {
                settings.ignored.push(format!("the option --{} (line {})", option.name, option.line));
                None
            }
        };
        if let Some(problem) = problem {
            settings.unsupported.get_or_insert(problem);
        }
    }
    let last_timed = script.events.iter().rposition(|event| event.time.is_some());
    for (index, event) in script.events.iter().enumerate() {
        let Action::Shell(command) = &event.action else { continue };
        // A timed command is the run's to report when it comes to it.
        if event.time.is_some() {
            continue;
        }
        match understood(command) {
            Some(assignments) => {
                for (name, value) in assignments {
                    if !apply(&mut settings.tcp, &name, &value) {
                        settings.ignored.push(format!("the setting {name}={value} (line {})", event.line));
                    }
                }
                if command.lines().any(|line| line.trim().ends_with("common/defaults.sh")) {
                    settings
                        .ignored
                        .extend(DEFAULTS_IGNORED.iter().map(|name| format!("the setting {name} of defaults.sh")));
                }
            }
            // A command with no time after the last event restores what the script changed.
            None if event.time.is_none() && last_timed.is_none_or(|last| index > last) => {
                settings.ignored.push(format!("the shell command `{}` (line {})", command.trim(), event.line))
            }
            // One that sets the scene before the first event is one the run cannot set.
            None if event.time.is_none() => {
                settings.unsupported.get_or_insert((event.line, format!("the shell command `{}`", command.trim())));
            }
            // A timed one is reported when the run reaches it.
            None => {}
        }
    }
    settings
}

/// The settings a shell command makes, when it is one the run understands: each of its lines
/// a call of `defaults.sh`, a `sysctl` of `net.ipv4.` settings, or the suite's
/// `set_sysctls.py` with `/proc/sys/net/ipv4/…=…` arguments (a line may go on after a `\`).
pub fn understood(command: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let joined = command.replace("\\\n", " ");
    for line in joined.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if line.ends_with("defaults.sh") && !line.contains(char::is_whitespace) {
            out.extend(DEFAULTS.iter().map(|(name, value)| (name.to_string(), value.to_string())));
            continue;
        }
        if let Some((program, arguments)) = line.split_once(char::is_whitespace) {
            if program.ends_with("/set_sysctls.py") {
                out.extend(split_assignments(arguments)?);
                continue;
            }
        }
        let mut words = line.strip_prefix("sysctl ")?.trim_start();
        // -q (quiet), -w (write), -e (ignore unknown keys) change nothing here.
        while let Some(rest) = ["-q ", "-w ", "-e "].iter().find_map(|flag| words.strip_prefix(flag)) {
            words = rest.trim_start();
        }
        out.extend(split_assignments(words)?);
    }
    (!out.is_empty()).then_some(out)
}

/// `net.ipv4.tcp_rmem="4096 87380 6291456" net.ipv4.tcp_sack=1` as (name, value) pairs.
fn split_assignments(words: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = words.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let name = name.trim();
        let name = name.strip_prefix("/proc/sys/").unwrap_or(name).replace('/', ".");
        let name = name.strip_prefix("net.ipv4.")?.to_string();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => {
                let (value, tail) = quoted.split_once('"')?;
                (value.to_string(), tail)
            }
            None => match after.split_once(char::is_whitespace) {
                Some((value, tail)) => (value.to_string(), tail),
                None => (after.to_string(), ""),
            },
        };
        out.push((name, value));
        rest = tail.trim();
    }
    Some(out)
}

/// Sets what the engine models; false for a setting it does not.
fn apply(tcp: &mut TcpSettings, name: &str, value: &str) -> bool {
    let numbers: Vec<u64> = value.split_whitespace().filter_map(|word| word.parse().ok()).collect();
    let one = numbers.first().copied();
    match (name, numbers.as_slice()) {
        ("tcp_rmem", [_, default, max]) => {
            tcp.rcvbuf = (*default).min(u64::from(u32::MAX)) as u32;
            tcp.wscale = window_scale_for(*max);
        }
        ("tcp_wmem", [_, default, max]) => {
            tcp.sndbuf = (*default).min(u64::from(u32::MAX)) as u32;
            tcp.wmem_max = (*max).min(u64::from(u32::MAX)) as u32;
        }
        ("tcp_timestamps", _) => tcp.timestamps = one != Some(0),
        ("tcp_sack", _) => tcp.sack = one != Some(0),
        ("tcp_window_scaling", _) => tcp.window_scaling = one != Some(0),
        ("tcp_syn_retries", [retries]) => tcp.syn_retries = (*retries).min(255) as u32,
        ("tcp_synack_retries", [retries]) => tcp.synack_retries = (*retries).min(255) as u32,
        // The engine never restarts slow start after idle, which is what 0 asks for.
        ("tcp_slow_start_after_idle", [0]) => {}
        _ => return false,
    }
    true
}

/// The window scale Linux offers for receive buffers up to `max` bytes
/// (`tcp_select_initial_window()`): the smallest shift that brings the largest window under
/// 65535, at most 14.
fn window_scale_for(max: u64) -> u8 {
    let mut scale = 0;
    while scale < 14 && (max >> scale) > 65_535 {
        scale += 1;
    }
    scale
}
