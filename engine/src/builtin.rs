//! The built-in scenario library: every figure and boundary case of the course material.
//!
//! Each scenario is a JSON file in `engine/scenarios/`. With the `embedded` feature (on by
//! default, and what the CLI, the validator and the tests use) the files are compiled in. The
//! web page turns the feature off: it ships the files beside itself and fetches only the one
//! it shows, which keeps about 18 KB (gzipped) of scenarios it does not show out of its
//! download; it knows the names, and draws its picker from a table its build writes (see
//! `frontend/build.rs`). Names are part of the interface (CLI, `?s=` URLs, tests); the groups
//! follow `docs/scenarios.md`.

#[cfg(feature = "embedded")]
use crate::scenario::{self, Scenario};

macro_rules! library {
    ($($name:literal),* $(,)?) => {
        /// The names of every built-in scenario, in catalogue order; each is the stem of its
        /// file in `engine/scenarios/`.
        pub const NAMES: &[&str] = &[$($name),*];

        /// `(name, JSON text)` of every built-in scenario, in catalogue order.
        #[cfg(feature = "embedded")]
        pub const SOURCES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../scenarios/", $name, ".json")))),*
        ];
    };
}

library![
    // Connection set-up
    "three-way-handshake",
    "listen-queues",
    "backlog-overflow",
    "connection-refused",
    "connect-timeout",
    "simultaneous-open",
    // Data transfer and queues
    "lifecycle",
    "tlpi-tcpdump",
    "send-recv-queues",
    "flow-control",
    "deadlock",
    "partial-write",
    "nagle",
    "nagle-off",
    "one-write",
    "delayed-ack",
    // Closing
    "four-way-close",
    "half-close",
    "simultaneous-close",
    "lost-final-ack",
    "close-unread-data",
    "linger-abort",
    "linger-wait",
    "fin-wait-2-orphan",
    "shutdown-vs-close",
    // Servers, ports, demultiplexing
    "concurrent-server",
    "time-wait-bind",
    "demultiplexing",
    "ephemeral-port",
    // Failures
    "peer-crash",
    "peer-reboot",
    "keepalive",
    "retransmission",
    "udp-vs-tcp",
];

/// The catalogue's groups, in order.
pub const GROUPS: &[&str] =
    &["Connection set-up", "Data transfer and queues", "Closing", "Servers, ports, demultiplexing", "Failures"];

/// What the picker shows of a built-in scenario.
#[cfg(feature = "embedded")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub title: String,
    pub source: String,
    pub group: String,
    pub description: String,
}

/// The names of every built-in scenario, in catalogue order.
pub fn names() -> impl Iterator<Item = &'static str> {
    NAMES.iter().copied()
}

/// A built-in scenario by name.
#[cfg(feature = "embedded")]
pub fn get(name: &str) -> Option<Scenario> {
    let (_, text) = SOURCES.iter().find(|(candidate, _)| *candidate == name)?;
    // The library's own files are tested to parse (see the tests below); a broken one is a
    // bug in this crate, reported as "not found" rather than a panic in a page.
    scenario::parse(text).ok()
}

/// The JSON text of a built-in scenario.
#[cfg(feature = "embedded")]
pub fn source(name: &str) -> Option<&'static str> {
    SOURCES.iter().find(|(candidate, _)| *candidate == name).map(|(_, text)| *text)
}

/// Title, source, group and description of every built-in scenario.
#[cfg(feature = "embedded")]
pub fn catalogue() -> Vec<Entry> {
    SOURCES
        .iter()
        .filter_map(|(name, _)| {
            let scenario = get(name)?;
            Some(Entry {
                name,
                title: scenario.title,
                source: scenario.source,
                group: scenario.group,
                description: scenario.description,
            })
        })
        .collect()
}

#[cfg(all(test, feature = "embedded"))]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_names_itself() {
        for (name, text) in SOURCES {
            let scenario = scenario::parse(text).unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(scenario.name, *name);
            assert!(!scenario.title.is_empty(), "{name} has no title");
            assert!(!scenario.source.is_empty(), "{name} has no source");
            assert!(GROUPS.contains(&scenario.group.as_str()), "{name}: unknown group {}", scenario.group);
        }
    }
}
