//! The `sockscope` command: list and run scenarios in the terminal, and validate them
//! against the real Linux kernel.

mod load;
mod packetdrill;
mod validate;

use std::process::ExitCode;

use sockscope_engine::{builtin, format, replay, Trace};

const USAGE: &str = "\
usage: sockscope list
       sockscope run <name | file.json | file.pkt> [--format tcpdump|ss|jsonl|narrate|states] [--at <seconds>] [-S]

  list     the built-in scenarios, by group
  run      run a built-in scenario (by name), a scenario file or a packetdrill script
           (its verdict follows as a `#` line) and print it:
             tcpdump  every segment as `tcpdump -n` prints it (the default): the SYNs'
                      sequence numbers in full, later numbers relative to them
             ss       `ss -tan` of every host at --at seconds, or at the end
             jsonl    the trace, one event per line (docs/trace-format.md)
             narrate  the story, one sentence per event that matters, numbering
                      segments as the tcpdump format does
             states   every socket's sequence of TCP states
           -S prints absolute sequence numbers in tcpdump and narrate, as `tcpdump -n -S`
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("validate") {
        return validate::main(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("packetdrill") {
        return match packetdrill::main(&args[1..]) {
            Ok((output, all_met)) => {
                print!("{output}");
                if all_met {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(message) => {
                eprintln!("sockscope: {message}");
                ExitCode::FAILURE
            }
        };
    }
    match run(&args) {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("sockscope: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    match args.first().map(String::as_str) {
        Some("list") => Ok(list()),
        Some("run") => run_scenario(&args[1..]),
        Some("help" | "--help" | "-h") => Ok(format!("{USAGE}{}{}\n", packetdrill::USAGE, validate::USAGE)),
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}{}{}", packetdrill::USAGE, validate::USAGE)),
        None => Err(format!("{USAGE}{}{}", packetdrill::USAGE, validate::USAGE)),
    }
}

fn list() -> String {
    let catalogue = builtin::catalogue();
    let mut out = String::new();
    for group in builtin::GROUPS {
        out.push_str(&format!("{group}\n"));
        for entry in catalogue.iter().filter(|entry| entry.group == *group) {
            out.push_str(&format!("  {:<22} {}  [{}]\n", entry.name, entry.title, entry.source));
        }
    }
    out
}

fn run_scenario(args: &[String]) -> Result<String, String> {
    let mut target = None;
    let mut format = "tcpdump".to_string();
    let mut at: Option<f64> = None;
    let mut numbering = format::Numbering::Relative;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--format" => format = rest.next().ok_or("--format needs a value")?.clone(),
            "--at" => {
                let value = rest.next().ok_or("--at needs a number of seconds")?;
                let seconds: f64 = value.parse().map_err(|_| format!("--at takes seconds, not `{value}`"))?;
                if !seconds.is_finite() || seconds < 0.0 {
                    return Err(format!("--at takes a non-negative number of seconds, not `{value}`"));
                }
                at = Some(seconds);
            }
            "-S" => numbering = format::Numbering::Absolute,
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            name if target.is_none() => target = Some(name.to_string()),
            extra => return Err(format!("unexpected argument `{extra}`")),
        }
    }
    let target = target.ok_or("run needs a scenario name or file")?;
    let (trace, notes) = if target.ends_with(".pkt") {
        load::packetdrill(&target)?
    } else {
        let scenario = load::scenario(&target)?;
        let run = sockscope_engine::run(&scenario).map_err(|err| err.to_string())?;
        (run.trace, run.failed_expectations)
    };
    let trace = &trace;
    let mut output = match format.as_str() {
        "tcpdump" => format::tcpdump(trace, numbering),
        "jsonl" => trace.to_jsonl(),
        "narrate" => format::narrate(trace, numbering),
        "states" => format::state_sequences(trace),
        "ss" => ss_at(trace, at),
        other => return Err(format!("unknown format `{other}` (tcpdump, ss, jsonl, narrate, states)")),
    };
    for note in &notes {
        output.push_str(&format!("# {note}\n"));
    }
    Ok(output)
}

fn ss_at(trace: &Trace, at: Option<f64>) -> String {
    let applied = match at {
        None => trace.events.len(),
        Some(seconds) => {
            let t_us = (seconds * 1e6) as u64;
            trace.events.iter().take_while(|event| event.t_us <= t_us).count()
        }
    };
    let timeline = replay::Timeline::new(trace);
    let snapshot = timeline.at(trace, applied);
    let mut out = String::new();
    for host in &snapshot.hosts {
        out.push_str(&format!("# {} ({}) at {}\n", host.name, host.addr, format::seconds(snapshot.t_us)));
        out.push_str(&format::ss(&snapshot, &host.name));
    }
    out
}
