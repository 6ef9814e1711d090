//! A loaded scenario: its trace and everything the views derive from it once.
//!
//! The engine runs in the page; from then on the trace is the only thing read. Seeking uses
//! the engine's [`Timeline`] (a snapshot every 256 events), and the tcpdump lines, the story
//! and the sequence diagram's arrows are computed here once per scenario (the texts that print
//! sequence numbers once per numbering the reader picks), so that moving the cursor only looks
//! things up.

use std::cell::OnceCell;
use std::rc::Rc;

use sockscope_engine::addr::{Ipv4, SockAddr};
use sockscope_engine::format::{self, Numbering, SegmentNumbers};
use sockscope_engine::replay::{Snapshot, Timeline};
use sockscope_engine::trace::{EventKind, Fate, Proto, Segment, SocketId, Trace};
use sockscope_engine::vecmap::VecMap;
use sockscope_engine::{RunError, Scenario, ScenarioError};

use crate::playback::Timing;
use crate::steps;

/// The page runs custom scenarios with at most this many events, so a link cannot make the
/// page compute for minutes; the engine stops there and the page shows what happened so far.
pub const PAGE_MAX_EVENTS: usize = 400_000;

/// One scenario, run and indexed.
pub struct Loaded {
    /// The built-in name, or `None` for a custom scenario.
    pub builtin: Option<String>,
    /// The scenario's JSON text (for the editor).
    pub text: String,
    pub title: String,
    pub source: String,
    pub description: String,
    pub trace: Trace,
    pub timeline: Timeline,
    pub timing: Rc<Timing>,
    /// `(event, socket)` for every narrated event that is about a TCP socket, in event order:
    /// the socket the state diagram follows while that event's step is on screen.
    pub focus: Vec<(usize, SocketId)>,
    pub hosts: Vec<String>,
    pub diagram: Diagram,
    /// Things the reader should know about this run (failed expectations, a cut-off run).
    pub warnings: Vec<String>,
    /// For a packetdrill script's run (the studio's build opens them), the script's lines and
    /// where the trace quotes each.
    pub script: Option<Rc<ScriptLines>>,
    /// The texts that print sequence numbers, relative (made at load) and absolute (made
    /// when the reader first asks for it).
    numbered: [OnceCell<Numbered>; 2],
}

/// The texts that print a segment's numbers, all in one numbering: the tcpdump pane, the
/// story and the diagram's arrow labels.
pub struct Numbered {
    /// tcpdump's lines, each with the index of its segment's `sent` event.
    pub tcpdump: Vec<(usize, String)>,
    /// The story's sentences, each with the index of its event.
    pub story: Vec<(usize, String)>,
    /// The label of each of the diagram's arrows, in the order of `Diagram::arrows`.
    pub labels: Vec<String>,
}

impl Numbered {
    fn new(trace: &Trace, numbering: Numbering) -> Numbered {
        Numbered::with_story(trace, numbering, format::story(trace, numbering))
    }

    /// The texts in `numbering`, around a story already told in it.
    fn with_story(trace: &Trace, numbering: Numbering, story: Story) -> Numbered {
        Numbered { tcpdump: format::tcpdump_lines(trace, numbering), story, labels: arrow_labels(trace, numbering) }
    }
}

/// A packetdrill script beside its run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScriptLines {
    /// The script as written, one entry per line.
    pub lines: Vec<String>,
    /// `(event, line)`: the trace's note quoting each line the run reached, in event order.
    pub quoted: Vec<(usize, u32)>,
    /// The run's verdict, as a sentence.
    pub verdict: String,
    /// The line the run failed or stopped at, if it did not pass.
    pub stopped_at: Option<u32>,
}

/// Why custom text could not be opened: `what` it was taken for, and `why`, a phrase that
/// follows it ("does not parse: …").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unopened {
    pub what: &'static str,
    pub why: String,
}

/// Shares a loaded scenario between components; equal when it is the same load.
#[derive(Clone)]
pub struct Shared(pub Rc<Loaded>);

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for Shared {
    type Target = Loaded;
    fn deref(&self) -> &Loaded {
        &self.0
    }
}

/// Loads the built-in scenario `name` from its file's text (fetched by the page).
pub fn load_builtin(name: &str, text: String) -> Result<Loaded, String> {
    // The library's files are tested to parse; a failure here means the file served beside
    // the page is not the one this build was made with.
    let scenario = sockscope_engine::scenario::parse_without_predict(&text)
        .map_err(|err| format!("the file of the built-in scenario “{name}” does not parse ({err})"))?;
    Ok(load(scenario, text, Some(name.to_string())))
}

/// Loads scenario text typed or linked by a reader; the error names the JSON path, and the
/// caller says whose text it was (the editor's, a link's).
pub fn load_text(text: &str) -> Result<Loaded, ScenarioError> {
    let mut scenario = sockscope_engine::scenario::parse_without_predict(text)?;
    scenario.limits.max_events = scenario.limits.max_events.min(PAGE_MAX_EVENTS);
    Ok(load(scenario, text.to_string(), None))
}

/// Whether custom text is meant as a scenario (JSON, which starts with `{`) rather than a
/// packetdrill script.
pub fn is_scenario_text(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Loads custom text in the player's build, which opens scenarios only.
pub fn load_custom(text: &str) -> Result<Loaded, Unopened> {
    load_text(text).map_err(|err| Unopened { what: "scenario", why: format!("does not parse: {err}") })
}

/// Loads a scenario the page built itself (the studio's playground), with `text` as the
/// editor shows it: checked as a reader's text would be, without reading the text again.
pub fn load_built(mut scenario: Scenario, text: String) -> Result<Loaded, ScenarioError> {
    sockscope_engine::scenario::validate(&scenario)?;
    scenario.limits.max_events = scenario.limits.max_events.min(PAGE_MAX_EVENTS);
    Ok(load(scenario, text, None))
}

/// A page with nothing to show but why (used only if even the default scenario fails).
pub fn empty(reason: &str) -> Loaded {
    let trace =
        Trace { scenario: String::new(), title: "Nothing to show".into(), source: String::new(), events: Vec::new() };
    Loaded {
        builtin: None,
        text: String::new(),
        title: "Nothing to show".into(),
        source: String::new(),
        description: String::new(),
        timeline: Timeline::new(&trace),
        timing: Rc::new(Timing::new(&trace, &[])),
        focus: Vec::new(),
        hosts: Vec::new(),
        diagram: Diagram::default(),
        warnings: vec![reason.to_string()],
        script: None,
        numbered: [OnceCell::new(), OnceCell::new()],
        trace,
    }
}

/// `text` as a sentence: its first letter capitalised, ending with a full stop. The engine's
/// messages start in ASCII; `char::to_uppercase` would bring Unicode's case tables into the
/// page for nothing.
pub fn sentence(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_ascii_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

fn load(scenario: Scenario, text: String, builtin: Option<String>) -> Loaded {
    let mut warnings = Vec::new();
    let trace = match sockscope_engine::run(&scenario) {
        Ok(run) => {
            for failed in run.failed_expectations {
                warnings.push(sentence(&failed));
            }
            run.trace
        }
        Err(err) => {
            warnings.push(format!("{err}. Showing the events up to that point."));
            let RunError::EventLimit { partial, .. } = err;
            *partial
        }
    };
    let title = if scenario.title.is_empty() { "Custom scenario".to_string() } else { scenario.title };
    let mut loaded = from_trace(trace, text, title, warnings);
    (loaded.builtin, loaded.source, loaded.description) = (builtin, scenario.source, scenario.description);
    loaded
}

/// Indexes a trace made some other way than by running a scenario (the studio's packetdrill
/// scripts): `text` is what the editor shows for it.
pub fn from_trace(trace: Trace, text: String, title: String, warnings: Vec<String>) -> Loaded {
    let timeline = Timeline::new(&trace);
    // Which events are narrated does not depend on the numbering, only their text does.
    let (story, focus) = story_and_focus(&trace);
    let narrated: Vec<usize> = story.iter().map(|(index, _)| *index).collect();
    let relative = Numbered::with_story(&trace, Numbering::Relative, story);
    let timing = Rc::new(Timing::new(&trace, &narrated));
    let hosts: Vec<String> = trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Host { host, .. } => Some(host.clone()),
            _ => None,
        })
        .collect();
    let diagram = Diagram::new(&trace, &hosts);
    let relative = OnceCell::from(relative);
    Loaded {
        builtin: None,
        text,
        title,
        source: String::new(),
        description: String::new(),
        trace,
        timeline,
        timing,
        focus,
        hosts,
        diagram,
        warnings,
        script: None,
        numbered: [relative, OnceCell::new()],
    }
}

/// A story's sentences, each with the index of its event.
type Story = Vec<(usize, String)>;

/// The story in relative numbers (`format::story`), and the TCP socket each narrated event is
/// about (see [`Loaded::focus`]), told in one pass over the trace: the page opens a scenario
/// with as few folds of its events as it can.
fn story_and_focus(trace: &Trace) -> (Story, Vec<(usize, SocketId)>) {
    let mut narrator = format::Narrator::new(trace, Numbering::Relative);
    let mut snapshot = Snapshot::default();
    let (mut story, mut focus) = (Vec::new(), Vec::new());
    for (index, event) in trace.events.iter().enumerate() {
        if let Some(text) = narrator.sentence(&snapshot, event) {
            if let Some(socket) = steps::concern(&snapshot, event).tcp_socket(&snapshot) {
                focus.push((index, socket));
            }
            story.push((index, text));
        }
        snapshot.apply(event);
    }
    (story, focus)
}

impl Loaded {
    /// The texts that print sequence numbers, in `numbering`.
    pub fn numbered(&self, numbering: Numbering) -> &Numbered {
        let slot = match numbering {
            Numbering::Relative => &self.numbered[0],
            Numbering::Absolute => &self.numbered[1],
        };
        slot.get_or_init(|| Numbered::new(&self.trace, numbering))
    }

    /// The socket the state diagram follows at `cursor` (a position between two steps), when
    /// the reader has not pinned one: the socket the step on screen is about; after a step
    /// about no socket (a note, a process starting), the socket the latest step was about
    /// that still exists in `snapshot` (the world at `cursor`), or else the latest one.
    pub fn followed(&self, cursor: usize, snapshot: &Snapshot) -> Option<SocketId> {
        let opener = self.narration(cursor, Numbering::Relative)?.0;
        let known = self.focus.partition_point(|(event, _)| *event <= opener);
        let &(event, socket) = self.focus.get(known.checked_sub(1)?)?;
        if event == opener || snapshot.sockets.contains_key(&socket) {
            return Some(socket);
        }
        // A bounded look back: a trace of many short connections need not be searched whole.
        let alive = self.focus[..known - 1]
            .iter()
            .rev()
            .take(512)
            .map(|(_, socket)| *socket)
            .find(|socket| snapshot.sockets.contains_key(socket));
        Some(alive.unwrap_or(socket))
    }

    /// The story sentence for the world after `cursor` events: the latest at or before it.
    pub fn narration(&self, cursor: usize, numbering: Numbering) -> Option<(usize, &str)> {
        let story = &self.numbered(numbering).story;
        let index = story.partition_point(|(event, _)| *event < cursor);
        index.checked_sub(1).map(|found| (story[found].0, story[found].1.as_str()))
    }

    /// How many tcpdump lines have been printed after `cursor` events (the same in every
    /// numbering).
    pub fn tcpdump_printed(&self, cursor: usize) -> usize {
        self.numbered(Numbering::Relative).tcpdump.partition_point(|(event, _)| *event < cursor)
    }
}

/// What kind of segment an arrow is, for its colour and line style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowKind {
    Syn,
    Data,
    Fin,
    Rst,
    Ack,
    Udp,
}

/// One segment of the sequence diagram: from its send to its arrival (or loss).
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub id: u64,
    /// The events where it was sent and where it arrived or was dropped (`None`: the run
    /// ended with it still in flight).
    pub sent: usize,
    pub end: Option<usize>,
    pub from_lane: usize,
    pub to_lane: usize,
    pub kind: ArrowKind,
    pub dropped: bool,
    pub retransmission: bool,
}

/// A state change written beside a host's lifeline.
#[derive(Clone, Debug, PartialEq)]
pub struct StateMark {
    pub event: usize,
    pub lane: usize,
    pub socket: SocketId,
    pub text: String,
}

/// The sequence diagram's items, in event order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagram {
    pub arrows: Vec<Arrow>,
    pub marks: Vec<StateMark>,
}

impl Diagram {
    pub fn new(trace: &Trace, hosts: &[String]) -> Diagram {
        let mut lanes_by_ip = VecMap::new();
        let mut lanes_by_host = VecMap::new();
        for event in &trace.events {
            if let EventKind::Host { host, addr } = &event.kind {
                let lane = hosts.iter().position(|name| name == host).unwrap_or(0);
                lanes_by_ip.insert(*addr, lane);
                lanes_by_host.insert(host.clone(), lane);
            }
        }
        let lane_of = |addr: SockAddr| lanes_by_ip.get(&addr.ip).copied().unwrap_or(0);
        let mut arrows: Vec<Arrow> = Vec::new();
        let mut open: VecMap<u64, usize> = VecMap::new();
        let mut marks = Vec::new();
        let mut sockets_per_host: VecMap<usize, Vec<SocketId>> = VecMap::new();
        for (index, event) in trace.events.iter().enumerate() {
            match &event.kind {
                EventKind::Segment(segment) => match segment.fate {
                    Fate::Sent => {
                        open.insert(segment.id, arrows.len());
                        arrows.push(Arrow {
                            id: segment.id,
                            sent: index,
                            end: None,
                            from_lane: lane_of(segment.from),
                            to_lane: lane_of(segment.to),
                            kind: arrow_kind(segment),
                            dropped: false,
                            retransmission: segment.retransmission,
                        });
                    }
                    Fate::Delivered | Fate::Dropped => {
                        if let Some(position) = open.remove(&segment.id) {
                            arrows[position].end = Some(index);
                            arrows[position].dropped = segment.fate == Fate::Dropped;
                        }
                    }
                },
                EventKind::State { host, socket, to, .. } => {
                    let lane = lanes_by_host.get(host).copied().unwrap_or(0);
                    let seen = sockets_per_host.get_or_insert_with(lane, Vec::new);
                    if !seen.contains(socket) {
                        seen.push(*socket);
                    }
                    marks.push(StateMark { event: index, lane, socket: *socket, text: to.name().to_string() });
                }
                _ => {}
            }
        }
        // Name the socket beside its state only where a host has several.
        for mark in &mut marks {
            if sockets_per_host.get(&mark.lane).is_some_and(|sockets| sockets.len() > 1) {
                mark.text = format!("{} #{}", mark.text, mark.socket);
            }
        }
        Diagram { arrows, marks }
    }
}

fn arrow_kind(segment: &Segment) -> ArrowKind {
    let flags = segment.flags;
    if segment.proto == Proto::Udp {
        ArrowKind::Udp
    } else if flags.rst {
        ArrowKind::Rst
    } else if flags.syn {
        ArrowKind::Syn
    } else if flags.fin {
        ArrowKind::Fin
    } else if segment.len > 0 {
        ArrowKind::Data
    } else {
        ArrowKind::Ack
    }
}

/// The label of every arrow, in the order the segments were sent: the segment as the books
/// draw it (`format::segment_label`), numbered as the tcpdump pane numbers it, and led by the
/// port that names its connection when one host has several (`:40001 S seq 2433363436`).
fn arrow_labels(trace: &Trace, numbering: Numbering) -> Vec<String> {
    let several_ports: Vec<Ipv4> = format::hosts_with_several_ports(trace);
    let mut numbers = SegmentNumbers::new(numbering);
    let mut labels = Vec::new();
    for event in &trace.events {
        if let EventKind::Segment(segment) = &event.kind {
            let shown = numbers.shown(segment);
            if segment.fate == Fate::Sent {
                let label = format::segment_label(segment, &shown);
                labels.push(match format::connection_port(segment, &several_ports) {
                    Some(port) => format!(":{port} {label}"),
                    None => label,
                });
            }
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::builtin;

    /// A built-in scenario as the page loads it once its file has arrived.
    pub(crate) fn builtin_loaded(name: &str) -> Loaded {
        let text = builtin::source(name).expect("a built-in scenario").to_string();
        load_builtin(name, text).expect("the built-in scenario loads")
    }

    #[test]
    fn tlpi_diagram_draws_the_books_fifteen_segments() {
        let loaded = builtin_loaded("tlpi-tcpdump");
        assert_eq!(loaded.hosts, ["pukaki", "tekapo"]);
        let labels = &loaded.numbered(Numbering::Relative).labels;
        assert_eq!(labels.len(), 15, "{labels:#?}");
        assert_eq!(loaded.diagram.arrows.len(), 15);
        // The book's transcript (TLPI 61.8), as `tcpdump -n` prints it.
        assert_eq!(labels[0], "S seq 3412991013");
        assert_eq!(labels[1], "S. seq 1149562427 ack 3412991014");
        assert_eq!(labels[2], ". ack 1");
        assert_eq!(labels[3], "P. 1:17(16) ack 1");
        assert!(labels.iter().any(|label| label.starts_with("F. seq 49")), "{labels:#?}");
        let absolute = &loaded.numbered(Numbering::Absolute).labels;
        assert_eq!(absolute[2], ". ack 1149562428");
        assert_eq!(absolute[3], "P. 3412991014:3412991030(16) ack 1149562428");
        assert!(loaded.diagram.arrows.iter().all(|arrow| arrow.end.is_some() && !arrow.dropped));
        assert_eq!((loaded.diagram.arrows[0].from_lane, loaded.diagram.arrows[0].to_lane), (0, 1));
        assert!(loaded.diagram.marks.iter().any(|mark| mark.text.starts_with("TIME_WAIT") && mark.lane == 0));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn narration_and_tcpdump_follow_the_cursor() {
        let loaded = builtin_loaded("tlpi-tcpdump");
        assert_eq!(loaded.narration(0, Numbering::Relative), None);
        assert_eq!(loaded.tcpdump_printed(0), 0);
        let end = loaded.trace.events.len();
        assert_eq!(loaded.tcpdump_printed(end), 15);
        let (index, text) = loaded.narration(end, Numbering::Relative).unwrap();
        assert!(index < end && text.starts_with("The run ends"), "{text}");
    }

    #[test]
    fn arrows_name_their_connection_where_a_host_has_several() {
        let loaded = builtin_loaded("listen-queues");
        let labels = &loaded.numbered(Numbering::Relative).labels;
        let syns: Vec<&str> = labels.iter().filter(|label| label.contains(" S seq")).map(String::as_str).collect();
        assert_eq!(syns.len(), 3, "{labels:#?}");
        for (syn, port) in syns.iter().zip(["40001", "40002", "40003"]) {
            assert!(syn.starts_with(&format!(":{port} S seq")), "{syn}");
        }
        // The server's answers carry the client's port too.
        assert!(labels.iter().any(|label| label.starts_with(":40002 S. seq")), "{labels:#?}");
        // With one connection per host, no port is needed.
        let one = builtin_loaded("three-way-handshake");
        assert!(one.numbered(Numbering::Relative).labels.iter().all(|label| !label.starts_with(':')));
    }

    /// The page prints a segment's numbers with the engine's views (whose agreement with one
    /// another engine/tests/views.rs checks at every segment of every built-in scenario): its
    /// tcpdump lines and story are the engine's, and each arrow's label is the engine's label
    /// of that segment, led by a port only where one host has several.
    #[test]
    fn the_pages_numbered_texts_are_the_engines_in_both_numberings() {
        for name in builtin::names() {
            let loaded = builtin_loaded(name);
            let trace = &loaded.trace;
            let several_ports = format::hosts_with_several_ports(trace);
            for numbering in [Numbering::Relative, Numbering::Absolute] {
                let numbered = loaded.numbered(numbering);
                assert_eq!(numbered.tcpdump, format::tcpdump_lines(trace, numbering), "{name}");
                assert_eq!(numbered.story, format::story(trace, numbering), "{name}");
                let mut numbers = SegmentNumbers::new(numbering);
                let mut labels = numbered.labels.iter();
                for event in &trace.events {
                    let EventKind::Segment(segment) = &event.kind else { continue };
                    let shown = numbers.shown(segment);
                    if segment.fate != Fate::Sent {
                        continue;
                    }
                    let label = labels.next().unwrap_or_else(|| panic!("{name}: an arrow without a label"));
                    let bare = format::segment_label(segment, &shown);
                    match format::connection_port(segment, &several_ports) {
                        Some(port) => assert_eq!(*label, format!(":{port} {bare}"), "{name}"),
                        None => assert_eq!(*label, bare, "{name}"),
                    }
                }
                assert!(labels.next().is_none(), "{name}: more labels than arrows");
            }
        }
    }

    #[test]
    fn custom_text_errors_name_the_json_path() {
        let cases = [
            ("{", "EOF while parsing an object at line 1 column 1"),
            ("{\"hosts\": [{\"name\": \"a\", \"addr\": \"1.2.3\"}], \"processes\": []}", "at hosts[0].addr: "),
            ("[]", "invalid type: sequence, expected struct"),
        ];
        for (text, start) in cases {
            let err = load_text(text).err().expect("must fail").to_string();
            assert!(err.starts_with(start), "{text}: {err}");
        }
        let text = builtin::source("tlpi-tcpdump").unwrap();
        let loaded = load_text(text).unwrap();
        assert_eq!(loaded.builtin, None);
        assert_eq!(loaded.diagram.arrows.len(), 15);
    }

    #[test]
    fn a_failed_expectation_is_a_sentence_that_names_its_step_by_path() {
        let text = r#"{"hosts": [{"name": "a", "addr": "10.0.0.1"}], "processes": [{"name": "p", "host": "a",
            "steps": [{"call": "socket", "as": "s"}, {"call": "connect", "fd": "s", "addr": "10.0.0.1:9", "expect": 0}]}]}"#;
        let loaded = load_text(text).expect("the text loads");
        assert_eq!(
            loaded.warnings,
            ["Expectation failed: p's connect() at processes[0].steps[1] was expected to give 0, it gave ECONNREFUSED."]
        );
        assert_eq!(sentence(" it is cut short. "), "It is cut short.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn a_builtin_file_that_does_not_parse_is_reported_by_name() {
        let err = load_builtin("nagle", "<html>404</html>".to_string()).err().expect("must fail");
        assert!(err.contains("“nagle”") && err.contains("does not parse"), "{err}");
    }
}
