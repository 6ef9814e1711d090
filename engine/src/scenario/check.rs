//! The checks that turn a scenario text into a [`Scenario`] or a [`ScenarioError`]: the size
//! of the text, then the reader, then what the types alone cannot say (names refer to things
//! that exist, values are in range, sizes are bounded).

use std::collections::BTreeSet;

use super::document::Scenario;
use super::error::{error, ScenarioError};
use super::fault::{Fault, SegmentMatch};
use super::program::{Call, Step};
use super::read;
use super::sockopt::SockOpt;
use super::tcp_settings::TcpSettings;

/// Largest scenario text accepted, so a pasted or linked scenario cannot exhaust memory.
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;
/// Most hosts, processes and steps in all a scenario may declare.
pub const MAX_HOSTS: usize = 256;
pub const MAX_STEPS: usize = 100_000;
/// Largest single send() a scenario may ask for (bigger transfers take several steps).
pub const MAX_SEND_BYTES: u32 = 64 << 20;

/// Parses and checks a scenario. Never panics, whatever the text.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    check_size(text)?;
    let scenario = read::scenario::<read::ReadPredict>(text)?;
    validate(&scenario)?;
    Ok(scenario)
}

/// [`parse`], except that the `predict` field (the questions of the page's predict mode) is
/// left unread and unchecked: its scenario has the default. The player's build, which has no
/// predict mode, parses with this, so that the reader and the checks of those questions are
/// not part of the page every visitor downloads; the studio's build reads them with
/// [`parse`] when predict mode starts, and reports there what is wrong with them.
pub fn parse_without_predict(text: &str) -> Result<Scenario, ScenarioError> {
    check_size(text)?;
    let scenario = read::scenario::<read::LeavePredict>(text)?;
    validate_world(&scenario)?;
    Ok(scenario)
}

fn check_size(text: &str) -> Result<(), ScenarioError> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(error(
            "",
            format!("the scenario is {} bytes; at most {MAX_SCENARIO_BYTES} are accepted", text.len()),
        ));
    }
    Ok(())
}

/// Checks what the types alone cannot: names refer to things that exist, values are in range.
pub fn validate(scenario: &Scenario) -> Result<(), ScenarioError> {
    validate_world(scenario)?;
    check_predict(scenario)
}

/// [`validate`] but for the `predict` field.
fn validate_world(scenario: &Scenario) -> Result<(), ScenarioError> {
    if scenario.hosts.is_empty() {
        return Err(error("hosts", "a scenario needs at least one host"));
    }
    if scenario.hosts.len() > MAX_HOSTS {
        return Err(error("hosts", format!("at most {MAX_HOSTS} hosts are supported")));
    }
    let mut names = BTreeSet::new();
    let mut addrs = BTreeSet::new();
    for (index, host) in scenario.hosts.iter().enumerate() {
        let path = format!("hosts[{index}]");
        if host.name.is_empty() {
            return Err(error(format!("{path}.name"), "a host needs a name"));
        }
        if !names.insert(host.name.as_str()) {
            return Err(error(format!("{path}.name"), format!("host `{}` is declared twice", host.name)));
        }
        if host.addr.is_unspecified() {
            return Err(error(format!("{path}.addr"), "0.0.0.0 is the wildcard, not a host address"));
        }
        if !addrs.insert(host.addr) {
            return Err(error(format!("{path}.addr"), format!("address {} is used by two hosts", host.addr)));
        }
        check_tcp(&host.tcp, &format!("{path}.tcp"))?;
    }
    for (index, link) in scenario.links.iter().enumerate() {
        let path = format!("links[{index}]");
        for (field, name) in [("a", &link.a), ("b", &link.b)] {
            if !names.contains(name.as_str()) {
                return Err(error(format!("{path}.{field}"), format!("no host is named `{name}`")));
            }
        }
        if link.a == link.b {
            return Err(error(path, "a link joins two different hosts"));
        }
        if !(68..=65_536).contains(&link.mtu) {
            return Err(error(format!("{path}.mtu"), "the MTU must be between 68 and 65536"));
        }
        if link.latency_us > 10_000_000 {
            return Err(error(format!("{path}.latency_us"), "a one-way latency above 10 s is not supported"));
        }
    }
    for (index, fault) in scenario.faults.iter().enumerate() {
        check_fault(fault, &format!("faults[{index}]"), &names)?;
    }
    if scenario.limits.max_events == 0 {
        return Err(error("limits.max_events", "must be at least 1"));
    }
    let mut steps = 0usize;
    let mut process_names = BTreeSet::new();
    for (index, process) in scenario.processes.iter().enumerate() {
        let path = format!("processes[{index}]");
        if !names.contains(process.host.as_str()) {
            return Err(error(format!("{path}.host"), format!("no host is named `{}`", process.host)));
        }
        if !process_names.insert(process.name.as_str()) {
            return Err(error(format!("{path}.name"), format!("process `{}` is declared twice", process.name)));
        }
        check_steps(&process.steps, &path, &mut BTreeSet::new(), &mut steps)?;
    }
    Ok(())
}

/// Most questions a scenario may carry, and the longest texts a question may have: enough for
/// a lesson, small enough that a linked scenario cannot flood the page.
pub const MAX_QUESTIONS: usize = 200;
const MAX_PROMPT_CHARS: usize = 400;
const MAX_CHOICE_CHARS: usize = 200;
const MAX_WHY_CHARS: usize = 1000;

/// A teacher's questions: each names one moment that can exist in this scenario, and has two
/// to six different choices with the answer among them.
fn check_predict(scenario: &Scenario) -> Result<(), ScenarioError> {
    let questions = &scenario.predict.questions;
    let hosts: BTreeSet<&str> = scenario.hosts.iter().map(|host| host.name.as_str()).collect();
    if questions.len() > MAX_QUESTIONS {
        return Err(error("predict.questions", format!("at most {MAX_QUESTIONS} questions are supported")));
    }
    let mut processes = BTreeSet::new();
    for process in &scenario.processes {
        processes.insert(process.name.as_str());
        child_names(&process.steps, &mut processes);
    }
    for (index, question) in questions.iter().enumerate() {
        let path = format!("predict.questions[{index}]");
        let too_long = |text: &str, most: usize| text.chars().count() > most;
        if question.prompt.trim().is_empty() || too_long(&question.prompt, MAX_PROMPT_CHARS) {
            return Err(error(
                format!("{path}.prompt"),
                format!("a question needs a prompt of 1 to {MAX_PROMPT_CHARS} characters"),
            ));
        }
        if !(2..=6).contains(&question.choices.len()) {
            return Err(error(format!("{path}.choices"), "a question needs 2 to 6 choices"));
        }
        for (number, choice) in question.choices.iter().enumerate() {
            if choice.trim().is_empty() || too_long(choice, MAX_CHOICE_CHARS) {
                return Err(error(
                    format!("{path}.choices[{number}]"),
                    format!("a choice needs 1 to {MAX_CHOICE_CHARS} characters"),
                ));
            }
            if question.choices[..number].contains(choice) {
                return Err(error(format!("{path}.choices[{number}]"), "two choices are the same"));
            }
        }
        if question.answer as usize >= question.choices.len() {
            return Err(error(
                format!("{path}.answer"),
                format!("the answer is the number of a choice, counted from 0: 0 to {}", question.choices.len() - 1),
            ));
        }
        if too_long(&question.why, MAX_WHY_CHARS) {
            return Err(error(format!("{path}.why"), format!("at most {MAX_WHY_CHARS} characters")));
        }
        check_moment(&question.before, &format!("{path}.before"), &hosts, &processes)?;
    }
    Ok(())
}

fn check_moment(
    moment: &crate::scenario::Moment,
    path: &str,
    hosts: &BTreeSet<&str>,
    processes: &BTreeSet<&str>,
) -> Result<(), ScenarioError> {
    let named = [moment.segment.is_some(), moment.state.is_some(), moment.call.is_some(), moment.time_ms.is_some()];
    if named.iter().filter(|given| **given).count() != 1 {
        return Err(error(path, "a moment is exactly one of `segment`, `state`, `call` and `time_ms`"));
    }
    if moment.segment == Some(0) || moment.nth == Some(0) {
        return Err(error(path, "segments and occurrences are counted from 1"));
    }
    if let Some(time) = moment.time_ms {
        check_time_ms(time, format!("{path}.time_ms"))?;
    }
    if let Some(state) = &moment.state {
        if !crate::state::State::ALL.iter().any(|known| known.name() == state) {
            return Err(error(
                format!("{path}.state"),
                format!("`{state}` is not a TCP state (write it as ss does, e.g. TIME_WAIT)"),
            ));
        }
    }
    if let Some(call) = &moment.call {
        if call.is_empty() || call.len() > 32 {
            return Err(error(format!("{path}.call"), "a system call's name, such as accept"));
        }
    }
    if let Some(host) = &moment.host {
        if moment.state.is_none() || !hosts.contains(host.as_str()) {
            return Err(error(
                format!("{path}.host"),
                format!("`host` narrows a `state` to one of the scenario's hosts; `{host}` is not one here"),
            ));
        }
    }
    if let Some(process) = &moment.process {
        if moment.call.is_none() || !processes.contains(process.as_str()) {
            return Err(error(
                format!("{path}.process"),
                format!("`process` narrows a `call` to one of the scenario's processes; `{process}` is not one here"),
            ));
        }
    }
    if moment.nth.is_some() && moment.state.is_none() && moment.call.is_none() {
        return Err(error(format!("{path}.nth"), "`nth` counts the occurrences of a `state` or a `call`"));
    }
    Ok(())
}

/// The names of the processes `steps` fork, and of theirs.
fn child_names<'a>(steps: &'a [Step], names: &mut BTreeSet<&'a str>) {
    for step in steps {
        if let Call::Fork { child } = &step.call {
            names.insert(child.name.as_str());
            child_names(&child.steps, names);
        }
    }
}

fn check_fault(fault: &Fault, path: &str, hosts: &BTreeSet<&str>) -> Result<(), ScenarioError> {
    let host = |name: &str, field: &str| {
        if hosts.contains(name) {
            Ok(())
        } else {
            Err(error(format!("{path}.{field}"), format!("no host is named `{name}`")))
        }
    };
    let rate = |rate: f64| {
        if rate.is_finite() && (0.0..=1.0).contains(&rate) {
            Ok(())
        } else {
            Err(error(format!("{path}.rate"), "a rate is a probability between 0 and 1"))
        }
    };
    let matching = |matching: &SegmentMatch| -> Result<(), ScenarioError> {
        if let Some(name) = &matching.from {
            host(name, "from")?;
        }
        if let Some(name) = &matching.to {
            host(name, "to")?;
        }
        if let Some(flags) = &matching.flags {
            if crate::trace::Flags::parse_letters(flags).is_none() {
                return Err(error(
                    format!("{path}.flags"),
                    format!("`{flags}` is not tcpdump flag letters (S F P R .)"),
                ));
            }
        }
        for (field, time) in [("from_ms", matching.from_ms), ("until_ms", matching.until_ms)] {
            if let Some(time) = time {
                check_time_ms(time, format!("{path}.{field}"))?;
            }
        }
        Ok(())
    };
    match fault {
        Fault::Drop { matching: m, nth, count } => {
            if *nth == 0 || *count == 0 {
                return Err(error(path, "nth and count start at 1"));
            }
            matching(m)
        }
        Fault::Loss { rate: r, matching: m } => {
            rate(*r)?;
            matching(m)
        }
        Fault::Duplicate { rate: r, matching: m, nth, count } => {
            rate(*r)?;
            if *nth == Some(0) || *count == 0 {
                return Err(error(path, "nth and count start at 1"));
            }
            matching(m)
        }
        Fault::Reorder { rate: r, delay_us, matching: m } => {
            rate(*r)?;
            if *delay_us > 10_000_000 {
                return Err(error(format!("{path}.delay_us"), "at most 10 s"));
            }
            matching(m)
        }
        Fault::Delay { extra_us, matching: m, nth, count } => {
            if *extra_us > 10_000_000 {
                return Err(error(format!("{path}.extra_us"), "at most 10 s"));
            }
            if *nth == Some(0) || *count == 0 {
                return Err(error(path, "nth and count start at 1"));
            }
            matching(m)
        }
        Fault::LinkDown { a, b, from_ms, until_ms } => {
            host(a, "a")?;
            host(b, "b")?;
            check_time_ms(*from_ms, format!("{path}.from_ms"))?;
            if let Some(until) = until_ms {
                check_time_ms(*until, format!("{path}.until_ms"))?;
            }
            Ok(())
        }
        Fault::Crash { host: name, at_ms } | Fault::Reboot { host: name, at_ms } => {
            host(name, "host")?;
            check_time_ms(*at_ms, format!("{path}.at_ms"))
        }
    }
}

/// The largest `rto_initial_ms`, `rto_min_ms` and `rto_max_ms` a scenario may set: one hour.
const MAX_RTO_MS: u64 = 3_600_000;
/// The largest other millisecond setting of a host's TCP (MSL, delayed ACK, FIN_WAIT2 and
/// keepalive times): the same 1e10 ms that bounds times in steps and faults.
const MAX_TIMER_MS: u64 = 10_000_000_000;

fn check_tcp(tcp: &TcpSettings, path: &str) -> Result<(), ScenarioError> {
    if tcp.wscale > 14 {
        return Err(error(format!("{path}.wscale"), "RFC 7323 allows shifts of 0 to 14"));
    }
    if let Some(mss) = tcp.mss {
        if mss < 88 {
            return Err(error(format!("{path}.mss"), "Linux's smallest MSS is 88 (TCP_MIN_MSS)"));
        }
    }
    if tcp.sndbuf == 0 || tcp.rcvbuf == 0 {
        return Err(error(path, "buffer sizes must be at least 1 byte"));
    }
    if tcp.rcvbuf > (1 << 30) || tcp.sndbuf > (1 << 30) {
        return Err(error(path, "buffer sizes above 1 GiB are not supported"));
    }
    // The engine counts time in microseconds: bounding every millisecond setting keeps the
    // conversions and the sums built on them (2*srtt + rto_min, doubled RTOs) far from u64's
    // limit. An hour is longer than any RTO Linux allows (TCP_RTO_MAX is 120 s).
    for (field, value) in
        [("rto_initial_ms", tcp.rto_initial_ms), ("rto_min_ms", tcp.rto_min_ms), ("rto_max_ms", tcp.rto_max_ms)]
    {
        if value > MAX_RTO_MS {
            return Err(error(format!("{path}.{field}"), format!("at most {MAX_RTO_MS} ms (one hour) is supported")));
        }
    }
    for (field, value) in [
        ("msl_ms", tcp.msl_ms),
        ("delack_ms", tcp.delack_ms),
        ("fin_timeout_ms", tcp.fin_timeout_ms),
        ("keepalive_time_ms", tcp.keepalive_time_ms),
        ("keepalive_intvl_ms", tcp.keepalive_intvl_ms),
    ] {
        if value > MAX_TIMER_MS {
            return Err(error(format!("{path}.{field}"), format!("at most {MAX_TIMER_MS} ms is supported")));
        }
    }
    if tcp.rto_min_ms == 0 || tcp.rto_initial_ms == 0 || tcp.rto_max_ms < tcp.rto_min_ms {
        return Err(error(path, "RTO bounds must be positive and rto_max_ms at least rto_min_ms"));
    }
    if tcp.initial_cwnd == 0 {
        return Err(error(format!("{path}.initial_cwnd"), "must be at least 1"));
    }
    if tcp.syn_retries > 32 || tcp.retries2 > 32 || tcp.synack_retries > 32 || tcp.keepalive_probes > 1000 {
        return Err(error(path, "retry counts above 32 are not supported"));
    }
    Ok(())
}

fn check_time_ms(value: f64, path: String) -> Result<(), ScenarioError> {
    if !value.is_finite() || !(0.0..=1.0e10).contains(&value) {
        return Err(error(path, "a time must be a number of milliseconds between 0 and 1e10"));
    }
    Ok(())
}

fn check_steps(
    steps: &[Step],
    path: &str,
    defined: &mut BTreeSet<String>,
    count: &mut usize,
) -> Result<(), ScenarioError> {
    for (index, step) in steps.iter().enumerate() {
        *count += 1;
        if *count > MAX_STEPS {
            return Err(error(path, format!("at most {MAX_STEPS} steps are supported in all")));
        }
        let path = format!("{path}.steps[{index}]");
        if let Some(at) = step.at_ms {
            check_time_ms(at, format!("{path}.at_ms"))?;
        }
        if let Some(fd) = step.call.fd() {
            if !defined.contains(fd) {
                return Err(error(
                    format!("{path}.fd"),
                    format!("descriptor `{fd}` is not created by an earlier step (socket, accept or dup with \"as\")"),
                ));
            }
        }
        match &step.call {
            Call::Send { data, len, .. } | Call::SendAll { data, len, .. } | Call::Sendto { data, len, .. } => {
                match (data, len) {
                    (Some(_), Some(_)) => return Err(error(path, "give either `data` or `len`, not both")),
                    (None, None) => return Err(error(path, "a send needs `data` (text) or `len` (a byte count)")),
                    (None, Some(len)) if *len > MAX_SEND_BYTES => {
                        return Err(error(format!("{path}.len"), format!("at most {MAX_SEND_BYTES} bytes per step")))
                    }
                    (Some(data), None) if data.len() > MAX_SEND_BYTES as usize => {
                        return Err(error(format!("{path}.data"), "too long"))
                    }
                    _ => {}
                }
            }
            Call::Recv { len, .. } | Call::RecvToEof { len, .. } | Call::Recvfrom { len, .. }
                if *len == 0 || *len > MAX_SEND_BYTES =>
            {
                return Err(error(format!("{path}.len"), format!("must be between 1 and {MAX_SEND_BYTES}")));
            }
            Call::Sleep { ms } => check_time_ms(*ms, format!("{path}.ms"))?,
            Call::Setsockopt { opt, value, .. } => {
                SockOpt::new(*opt, *value).map_err(|reason| error(format!("{path}.value"), reason))?;
            }
            Call::Listen { backlog, .. } if *backlog > 65_535 => {
                return Err(error(format!("{path}.backlog"), "must be at most 65535"));
            }
            Call::Fork { child } => {
                let mut inherited = defined.clone();
                check_steps(&child.steps, &format!("{path}.child"), &mut inherited, count)?;
            }
            _ => {}
        }
        if let Some(name) = step.call.defines() {
            if name.is_empty() {
                return Err(error(format!("{path}.as"), "a descriptor name must not be empty"));
            }
            defined.insert(name.to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::Errno;
    use crate::scenario::{Expect, Linger, OptName, OptValue};

    fn check_err(text: &str, path: &str, reason_part: &str) {
        let err = parse(text).expect_err("scenario should be rejected");
        assert_eq!(err.path, path, "{err}");
        assert!(err.reason.contains(reason_part), "{err}");
    }

    const MINIMAL: &str = r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[
        {"name":"p","host":"a","steps":[{"call":"socket","as":"s"},{"call":"close","fd":"s"}]}]}"#;

    #[test]
    fn minimal_scenario_parses_with_linux_defaults() {
        let scenario = parse(MINIMAL).unwrap();
        assert_eq!(scenario.hosts[0].tcp.msl_ms, 30_000);
        assert_eq!(scenario.hosts[0].tcp.rcvbuf, 131_072);
        assert_eq!(scenario.seed, 1);
    }

    #[test]
    fn errors_name_the_json_path() {
        check_err(r#"{"hosts":[{"name":"a","addr":"10.0.0.300"}],"processes":[]}"#, "hosts[0].addr", "octet");
        check_err(
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[{"name":"p","host":"a","steps":[{"call":"bind","fd":"s","addr":"*:1"}]}]}"#,
            "processes[0].steps[0].fd",
            "not created",
        );
        check_err(
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[{"name":"p","host":"b","steps":[]}]}"#,
            "processes[0].host",
            "no host",
        );
        check_err(
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1","colour":1}],"processes":[]}"#,
            "hosts[0].colour",
            "colour",
        );
        check_err(
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[{"name":"p","host":"a","steps":[{"call":"teleport"}]}]}"#,
            "processes[0].steps[0]",
            "teleport",
        );
    }

    #[test]
    fn setsockopt_and_expectations_parse() {
        let text = r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[{"name":"p","host":"a","steps":[
            {"call":"socket","as":"s"},
            {"call":"setsockopt","fd":"s","opt":"SO_LINGER","value":{"onoff":true,"linger":0}},
            {"call":"setsockopt","fd":"s","opt":"SO_REUSEADDR","value":true},
            {"call":"connect","fd":"s","addr":"10.0.0.1:1","expect":"ECONNREFUSED"},
            {"call":"write","fd":"s","data":"hi","expect":2}]}]}"#;
        let scenario = parse(text).unwrap();
        let steps = &scenario.processes[0].steps;
        assert_eq!(
            steps[1].call,
            Call::Setsockopt {
                fd: "s".into(),
                opt: OptName::Linger,
                value: OptValue::Linger(Linger { onoff: true, linger: 0 })
            }
        );
        assert_eq!(steps[3].expect, Some(Expect::Errno(Errno::ECONNREFUSED)));
        assert_eq!(steps[4].expect, Some(Expect::Value(2)));
    }

    #[test]
    fn garbage_never_panics() {
        for text in ["", "{", "[]", "null", "{\"hosts\":5}", "\u{0}", "{\"hosts\":[],\"processes\":[]}"] {
            assert!(parse(text).is_err());
        }
    }
}

#[cfg(test)]
mod fault_tests {
    use super::*;

    fn with_faults(faults: &str) -> Result<Scenario, ScenarioError> {
        parse(&format!(
            r#"{{"hosts":[{{"name":"a","addr":"10.0.0.1"}},{{"name":"b","addr":"10.0.0.2"}}],"processes":[],"faults":{faults}}}"#
        ))
    }

    #[test]
    fn faults_parse_as_values() {
        let scenario = with_faults(
            r#"[{"fault":"drop","match":{"from":"b","flags":"F."},"nth":2},
                {"fault":"loss","rate":0.3},
                {"fault":"crash","host":"b","at_ms":1500}]"#,
        )
        .unwrap();
        assert_eq!(scenario.faults.len(), 3);
        match &scenario.faults[0] {
            Fault::Drop { matching, nth, count } => {
                assert_eq!(matching.flags.as_deref(), Some("F."));
                assert_eq!((*nth, *count), (2, 1));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Millisecond settings are bounded so that their microsecond forms (and 2*srtt + rto_min,
    /// doubled RTOs) cannot overflow, which would panic a debug build.
    #[test]
    fn huge_tcp_times_are_rejected_with_their_field() {
        let with_tcp = |tcp: &str| {
            parse(&format!(
                r#"{{"hosts":[{{"name":"a","addr":"10.0.0.1","tcp":{tcp}}},{{"name":"b","addr":"10.0.0.2"}}],"processes":[]}}"#
            ))
        };
        for (tcp, field) in [
            (r#"{"rto_initial_ms":3600001}"#, "rto_initial_ms"),
            (r#"{"rto_min_ms":3600001,"rto_max_ms":3600000}"#, "rto_min_ms"),
            (r#"{"rto_max_ms":3600001}"#, "rto_max_ms"),
        ] {
            let err = with_tcp(tcp).unwrap_err();
            assert_eq!(err.path, format!("hosts[0].tcp.{field}"), "{err}");
            assert!(err.reason.contains("3600000"), "{err}");
        }
        let err = with_tcp(r#"{"rto_min_ms":18446744073709551,"rto_max_ms":18446744073709551}"#).unwrap_err();
        assert!(err.path.ends_with(".rto_min_ms"), "{err}");
        let err = with_tcp(r#"{"keepalive_time_ms":18446744073709551615}"#).unwrap_err();
        assert!(err.path.ends_with(".keepalive_time_ms"), "{err}");
        assert!(with_tcp(r#"{"rto_min_ms":3600000,"rto_initial_ms":3600000,"rto_max_ms":3600000}"#).is_ok());
    }

    #[test]
    fn bad_faults_are_rejected_with_their_path() {
        let err = with_faults(r#"[{"fault":"loss","rate":1.5}]"#).unwrap_err();
        assert_eq!(err.path, "faults[0].rate");
        let err = with_faults(r#"[{"fault":"crash","host":"c","at_ms":1}]"#).unwrap_err();
        assert_eq!(err.path, "faults[0].host");
        let err = with_faults(r#"[{"fault":"drop","match":{"flags":"XYZ"}}]"#).unwrap_err();
        assert_eq!(err.path, "faults[0].flags");
        let err = with_faults(r#"[{"fault":"drop","match":{"colour":"red"}}]"#).unwrap_err();
        assert!(err.reason.contains("colour"), "{err}");
    }

    /// A scenario with a listener and a client, and `predict` as its predict mode.
    fn with_predict(predict: &str) -> Result<Scenario, ScenarioError> {
        parse(&format!(
            r#"{{"hosts":[{{"name":"a","addr":"10.0.0.1"}}],"processes":[
            {{"name":"p","host":"a","steps":[{{"call":"socket","as":"s"}},{{"call":"fork","child":{{"name":"kid","steps":[]}}}}]}}],
            "predict":{predict}}}"#
        ))
    }

    #[test]
    fn teachers_questions_name_moments_that_can_exist() {
        let question = |before: &str, rest: &str| {
            format!(
                r#"{{"questions":[{{"before":{before},"prompt":"What next?","choices":["x","y"],"answer":1{rest}}}]}}"#
            )
        };
        let good = [
            question(r#"{"segment":1}"#, ""),
            question(r#"{"state":"TIME_WAIT","host":"a","nth":2}"#, r##","why":"Because.""##),
            question(r#"{"call":"accept","process":"kid"}"#, ""),
            question(r#"{"time_ms":40.5}"#, ""),
            r#"{"generated":"skip"}"#.to_string(),
        ];
        for predict in &good {
            with_predict(predict).unwrap_or_else(|err| panic!("{predict}: {err}"));
        }
        let bad = [
            (question(r#"{}"#, ""), "predict.questions[0].before", "exactly one"),
            (question(r#"{"segment":1,"time_ms":3}"#, ""), "predict.questions[0].before", "exactly one"),
            (question(r#"{"segment":0}"#, ""), "predict.questions[0].before", "counted from 1"),
            (question(r#"{"state":"TIMEWAIT"}"#, ""), "predict.questions[0].before.state", "not a TCP state"),
            (question(r#"{"state":"LISTEN","host":"b"}"#, ""), "predict.questions[0].before.host", "`b`"),
            (question(r#"{"call":"recv","host":"a"}"#, ""), "predict.questions[0].before.host", "narrows a `state`"),
            (question(r#"{"call":"recv","process":"q"}"#, ""), "predict.questions[0].before.process", "`q`"),
            (question(r#"{"time_ms":1,"nth":2}"#, ""), "predict.questions[0].before.nth", "occurrences"),
            (question(r#"{"time_ms":-1}"#, ""), "predict.questions[0].before.time_ms", "between 0"),
            (
                r#"{"questions":[{"before":{"segment":1},"prompt":" ","choices":["x","y"],"answer":0}]}"#.into(),
                "predict.questions[0].prompt",
                "prompt",
            ),
            (
                r#"{"questions":[{"before":{"segment":1},"prompt":"?","choices":["x"],"answer":0}]}"#.into(),
                "predict.questions[0].choices",
                "2 to 6",
            ),
            (
                r#"{"questions":[{"before":{"segment":1},"prompt":"?","choices":["x","x"],"answer":0}]}"#.into(),
                "predict.questions[0].choices[1]",
                "the same",
            ),
            (
                r#"{"questions":[{"before":{"segment":1},"prompt":"?","choices":["x","y"],"answer":2}]}"#.into(),
                "predict.questions[0].answer",
                "0 to 1",
            ),
            (r#"{"generated":"maybe"}"#.into(), "predict.generated", "unknown variant"),
            (r#"{"questions":[{"prompt":"?"}]}"#.into(), "predict.questions[0]", "before"),
        ];
        for (predict, path, reason) in &bad {
            let err = with_predict(predict).expect_err(predict);
            assert_eq!(err.path, *path, "{predict}: {err}");
            assert!(err.reason.contains(reason), "{predict}: {err}");
        }
    }

    #[test]
    fn the_players_parse_leaves_the_questions_unread_and_reads_the_rest_alike() {
        for name in crate::builtin::names() {
            let text = crate::builtin::source(name).expect("built in");
            let whole = parse(text).expect("parses");
            let played = parse_without_predict(text).expect("parses");
            assert_eq!(played, Scenario { predict: Default::default(), ..whole }, "{name}");
        }
        // Questions that would be rejected are left unread; the rest is still checked.
        let odd = with_predict("[1, 2]").expect_err("the whole parse reads them");
        assert_eq!(odd.path, "predict");
        let minimal = r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[]}"#;
        let text = minimal.replacen('{', r#"{"predict":{"questions":[{"before":{}}]},"#, 1);
        assert_eq!(parse_without_predict(&text).expect("left unread").predict, Default::default());
        let broken = minimal.replacen('{', r#"{"predict":7,"hosts2":1,"#, 1);
        assert!(parse_without_predict(&broken).expect_err("unknown field").reason.contains("hosts2"));
    }
}
