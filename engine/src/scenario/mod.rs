//! The scenario format: hosts, links, per-host TCP settings, processes as ordered steps.
//!
//! A scenario is untrusted input (a file, a URL fragment, a paste into the page). Parsing
//! never panics: a malformed scenario becomes a [`ScenarioError`] naming the JSON path and
//! the reason. `docs/scenario-format.md` documents every field, and
//! `docs/scenario.schema.json` is its JSON Schema.
//!
//! The types are the format: serde's derives write them (and read them for the CLI), while
//! [`parse`] reads the text with the hand-written reader in `read/` over the JSON tree of
//! `json/`, then checks what the types alone cannot (`check.rs`).

mod check;
mod document;
mod error;
mod fault;
pub(crate) mod json;
mod network;
mod predict;
mod program;
mod read;
mod sockopt;
mod tcp_settings;

pub use check::{parse, parse_without_predict, validate, MAX_HOSTS, MAX_SCENARIO_BYTES, MAX_SEND_BYTES, MAX_STEPS};
pub use document::{Limits, Scenario};
pub use error::ScenarioError;
pub use fault::{Fault, SegmentMatch};
pub use network::{default_latency_us, default_mtu, HostSpec, LinkSpec};
pub use predict::{Generated, Moment, Predict, Question};
pub use program::{AtEnd, Call, ChildSpec, Expect, How, IoctlRequest, ProcessSpec, SockType, Step};
pub use sockopt::{Linger, OptName, OptValue, SockOpt};
pub use tcp_settings::TcpSettings;
