//! Reading the scenario's objects: the whole document, its hosts with their TCP settings,
//! links, limits and processes, each with serde's field order, defaults and messages.

use super::fail::Fail;
use super::predict::PredictField;
use super::program::step;
use super::reader::{end_map_pos, end_seq_pos, Mode, Reader};
use super::value;
use crate::scenario::document::default_seed;
use crate::scenario::json::{self, Kind, Node};
use crate::scenario::{
    default_latency_us, default_mtu, AtEnd, HostSpec, Limits, LinkSpec, Predict, ProcessSpec, Scenario, ScenarioError,
    Step, TcpSettings,
};

/// The path of the whole scenario, as serde_path_to_error writes it.
const ROOT: &str = ".";

/// The scenario in `text`, with its `predict` field read or left as `P` says.
pub(in crate::scenario) fn scenario<P: PredictField>(text: &str) -> Result<Scenario, ScenarioError> {
    let json::Document { root, syntax_error } = json::parse(text);
    Reader { text, syntax_error }.scenario::<P>(&root)
}

impl Reader<'_> {
    fn scenario<P: PredictField>(&self, node: &Node) -> Result<Scenario, ScenarioError> {
        const FIELDS: &[&str] = &[
            "name",
            "title",
            "source",
            "group",
            "description",
            "seed",
            "hosts",
            "links",
            "processes",
            "faults",
            "limits",
            "predict",
        ];
        let mode = Mode::Stream;
        let mut texts: [String; 5] = Default::default();
        let mut seed = default_seed();
        let mut hosts = None;
        let mut links = Vec::new();
        let mut processes = None;
        let mut faults = Vec::new();
        let mut limits = Limits::default();
        let mut predict = Predict::default();
        self.fields(mode, node, ROOT, "struct Scenario", FIELDS, |index, value, path| {
            match index {
                0..=4 => texts[index] = self.string(mode, value, path)?,
                5 => seed = self.u64(mode, value, path)?,
                6 => hosts = Some(self.seq(mode, value, path, |node, path| self.host(node, path))?),
                7 => links = self.seq(mode, value, path, |node, path| self.link(node, path))?,
                8 => processes = Some(self.seq(mode, value, path, |node, path| self.process(node, path))?),
                9 => faults = self.seq(mode, value, path, |node, path| self.fault(node, path))?,
                10 => limits = self.limits(value, path)?,
                _ => predict = P::read(self, value, path)?,
            }
            Ok(())
        })?;
        let Some(hosts) = hosts else { return Err(self.missing(mode, node, ROOT, "hosts")) };
        let Some(processes) = processes else { return Err(self.missing(mode, node, ROOT, "processes")) };
        let [name, title, source, group, description] = texts;
        Ok(Scenario { name, title, source, group, description, seed, hosts, links, processes, faults, limits, predict })
    }

    fn host(&self, node: &Node, path: &str) -> Result<HostSpec, ScenarioError> {
        let mode = Mode::Stream;
        let mut name = None;
        let mut addr = None;
        let mut tcp = TcpSettings::default();
        self.fields(mode, node, path, "struct HostSpec", &["name", "addr", "tcp"], |index, value, path| {
            match index {
                0 => name = Some(self.string(mode, value, path)?),
                1 => {
                    let text = self.string(mode, value, path)?;
                    // The address's own error is raised after serde_json has read the string,
                    // so it is placed where the host's object reading stopped.
                    let parsed = text
                        .parse()
                        .map_err(|err| self.error(mode, path, end_map_pos(self.text, value.end), Fail::custom(err)))?;
                    addr = Some(parsed);
                }
                _ => tcp = self.tcp(value, path)?,
            }
            Ok(())
        })?;
        let Some(name) = name else { return Err(self.missing(mode, node, path, "name")) };
        let Some(addr) = addr else { return Err(self.missing(mode, node, path, "addr")) };
        Ok(HostSpec { name, addr, tcp })
    }

    fn tcp(&self, node: &Node, path: &str) -> Result<TcpSettings, ScenarioError> {
        const FIELDS: &[&str] = &[
            "isn",
            "ephemeral_ports",
            "msl_ms",
            "sndbuf",
            "rcvbuf",
            "mss",
            "window_scaling",
            "wscale",
            "window_clamp",
            "timestamps",
            "sack",
            "delayed_ack",
            "delack_ms",
            "max_quickacks",
            "rto_initial_ms",
            "rto_min_ms",
            "rto_max_ms",
            "syn_retries",
            "syn_linear_timeouts",
            "synack_retries",
            "retries2",
            "fin_timeout_ms",
            "keepalive_time_ms",
            "keepalive_intvl_ms",
            "keepalive_probes",
            "initial_cwnd",
            "somaxconn",
            "abort_on_overflow",
            "wmem_max",
            "congestion_control",
        ];
        let m = Mode::Stream;
        let mut tcp = TcpSettings::default();
        self.fields(m, node, path, "struct TcpSettings", FIELDS, |index, v, p| {
            match index {
                0 => tcp.isn = self.seq(m, v, p, |v, p| self.u32(m, v, p))?,
                1 => tcp.ephemeral_ports = self.seq(m, v, p, |v, p| self.u16(m, v, p))?,
                2 => tcp.msl_ms = self.u64(m, v, p)?,
                3 => tcp.sndbuf = self.u32(m, v, p)?,
                4 => tcp.rcvbuf = self.u32(m, v, p)?,
                5 => tcp.mss = value::option(v, |v| self.u16(m, v, p))?,
                6 => tcp.window_scaling = self.flag(m, v, p)?,
                7 => tcp.wscale = self.unsigned(m, v, p, u8::MAX.into(), "u8")? as u8,
                8 => tcp.window_clamp = value::option(v, |v| self.u32(m, v, p))?,
                9 => tcp.timestamps = self.flag(m, v, p)?,
                10 => tcp.sack = self.flag(m, v, p)?,
                11 => tcp.delayed_ack = self.flag(m, v, p)?,
                12 => tcp.delack_ms = self.u64(m, v, p)?,
                13 => tcp.max_quickacks = self.u32(m, v, p)?,
                14 => tcp.rto_initial_ms = self.u64(m, v, p)?,
                15 => tcp.rto_min_ms = self.u64(m, v, p)?,
                16 => tcp.rto_max_ms = self.u64(m, v, p)?,
                17 => tcp.syn_retries = self.u32(m, v, p)?,
                18 => tcp.syn_linear_timeouts = self.u32(m, v, p)?,
                19 => tcp.synack_retries = self.u32(m, v, p)?,
                20 => tcp.retries2 = self.u32(m, v, p)?,
                21 => tcp.fin_timeout_ms = self.u64(m, v, p)?,
                22 => tcp.keepalive_time_ms = self.u64(m, v, p)?,
                23 => tcp.keepalive_intvl_ms = self.u64(m, v, p)?,
                24 => tcp.keepalive_probes = self.u32(m, v, p)?,
                25 => tcp.initial_cwnd = self.u32(m, v, p)?,
                26 => tcp.somaxconn = self.u32(m, v, p)?,
                27 => tcp.abort_on_overflow = self.flag(m, v, p)?,
                28 => tcp.wmem_max = self.u32(m, v, p)?,
                _ => tcp.congestion_control = self.string(m, v, p)?,
            }
            Ok(())
        })?;
        Ok(tcp)
    }

    fn link(&self, node: &Node, path: &str) -> Result<LinkSpec, ScenarioError> {
        let m = Mode::Stream;
        let mut ends = [None, None];
        let mut latency_us = default_latency_us();
        let mut mtu = default_mtu();
        self.fields(m, node, path, "struct LinkSpec", &["a", "b", "latency_us", "mtu"], |index, v, p| {
            match index {
                0 | 1 => ends[index] = Some(self.string(m, v, p)?),
                2 => latency_us = self.u64(m, v, p)?,
                _ => mtu = self.u32(m, v, p)?,
            }
            Ok(())
        })?;
        let [Some(a), b] = ends else { return Err(self.missing(m, node, path, "a")) };
        let Some(b) = b else { return Err(self.missing(m, node, path, "b")) };
        Ok(LinkSpec { a, b, latency_us, mtu })
    }

    fn limits(&self, node: &Node, path: &str) -> Result<Limits, ScenarioError> {
        let m = Mode::Stream;
        let mut limits = Limits::default();
        self.fields(m, node, path, "struct Limits", &["max_events", "max_time_ms"], |index, v, p| {
            match index {
                0 => limits.max_events = self.unsigned(m, v, p, usize::MAX as u64, "usize")? as usize,
                _ => limits.max_time_ms = self.u64(m, v, p)?,
            }
            Ok(())
        })?;
        Ok(limits)
    }

    fn process(&self, node: &Node, path: &str) -> Result<ProcessSpec, ScenarioError> {
        let m = Mode::Stream;
        let mut texts = [None, None];
        let mut steps = None;
        let mut at_end = AtEnd::Exit;
        self.fields(m, node, path, "struct ProcessSpec", &["name", "host", "steps", "at_end"], |index, v, p| {
            match index {
                0 | 1 => texts[index] = Some(self.string(m, v, p)?),
                2 => steps = Some(self.seq(m, v, p, |v, p| self.step(v, p))?),
                _ => {
                    let variant = value::variant(v, &["exit", "wait"]).map_err(|fail| self.place(m, v, p, fail))?;
                    at_end = if variant == 0 { AtEnd::Exit } else { AtEnd::Wait };
                }
            }
            Ok(())
        })?;
        let [Some(name), host] = texts else { return Err(self.missing(m, node, path, "name")) };
        let Some(host) = host else { return Err(self.missing(m, node, path, "host")) };
        let Some(steps) = steps else { return Err(self.missing(m, node, path, "steps")) };
        Ok(ProcessSpec { name, host, steps, at_end })
    }

    /// A step, read as a map, as serde_json reads a step's object into a `Value` first; its
    /// errors carry no position of their own, so they are placed where serde_json stops
    /// reading the array of steps after this one.
    fn step(&self, node: &Node, path: &str) -> Result<Step, ScenarioError> {
        if !matches!(node.kind, Kind::Object(..)) {
            return Err(self.invalid_type(Mode::Stream, node, path, "a map"));
        }
        if json::broken_path(node, path).is_some() {
            return Err(self.syntax(node, path));
        }
        step(node).map_err(|reason| self.error(Mode::Stream, path, end_seq_pos(self.text, node.end), reason))
    }
}
