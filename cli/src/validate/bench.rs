//! The lifecycle benchmark: how many complete loopback connections (connect, 1 KB each way,
//! close) the real kernel runs per second, beside how many the engine simulates per second,
//! measured in the same run on the same machine.
//!
//! The real side runs a server thread and a client thread in a fresh network namespace;
//! the engine side runs one scenario holding the same lifecycles back to back under the
//! loopback profile. Both are wall-clock rates; the engine's is the cost of simulating, not
//! the simulated time. One round of each swings widely on a small machine (a ratio of 0.5 to
//! 1.6 between runs), so both sides run [`ROUNDS`] times, alternating, and the medians are
//! compared.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use serde_json::json;

use super::kernel;
use super::profile::{loopback_profile, KernelFacts};

const PAYLOAD: usize = 1024;
/// How many times each side runs.
const ROUNDS: usize = 5;

/// Runs both sides [`ROUNDS`] times and returns the printed figures: each round, then the
/// medians.
pub fn run(count: usize) -> Result<String, String> {
    let facts = kernel::facts();
    let mut out = format!(
        "\nbenchmark: {count} lifecycles (connect, {PAYLOAD} bytes each way, close) on loopback, {ROUNDS} rounds\n"
    );
    let (mut kernel_times, mut engine_times, mut events) = (Vec::new(), Vec::new(), 0);
    for round in 1..=ROUNDS {
        let kernel_seconds = kernel::in_new_namespace(move || real_lifecycles(count))?;
        let (engine_seconds, traced) = engine_lifecycles(count, &facts)?;
        out.push_str(&format!(
            "  round {round}: {}: {kernel_seconds:.3} s, engine: {engine_seconds:.3} s, ratio {:.2}\n",
            facts.release,
            kernel_seconds / engine_seconds
        ));
        kernel_times.push(kernel_seconds);
        engine_times.push(engine_seconds);
        events = traced;
    }
    let (kernel_seconds, engine_seconds) = (median(&mut kernel_times), median(&mut engine_times));
    let kernel_rate = count as f64 / kernel_seconds;
    let engine_rate = count as f64 / engine_seconds;
    out.push_str(&format!(
        "  median {}: {kernel_seconds:.3} s, {kernel_rate:.0} lifecycles/s\n\
         \x20 median engine:      {engine_seconds:.3} s, {engine_rate:.0} lifecycles/s ({events} trace events)\n\
         \x20 ratio engine/kernel (medians): {:.2}\n",
        facts.release,
        engine_rate / kernel_rate
    ));
    Ok(out)
}

/// The median of `values` (the lower middle one of an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[(values.len() - 1) / 2]
}

fn real_lifecycles(count: usize) -> Result<f64, String> {
    let listener = TcpListener::bind("127.0.0.2:5000").map_err(|err| format!("bind: {err}"))?;
    let started = Instant::now();
    let server = std::thread::spawn(move || -> Result<(), String> {
        let mut buffer = [0u8; PAYLOAD];
        for _ in 0..count {
            let (mut stream, _) = listener.accept().map_err(|err| format!("accept: {err}"))?;
            stream.read_exact(&mut buffer).map_err(|err| format!("server read: {err}"))?;
            stream.write_all(&buffer).map_err(|err| format!("server write: {err}"))?;
        }
        Ok(())
    });
    let request = [b'q'; PAYLOAD];
    let mut answer = [0u8; PAYLOAD];
    for _ in 0..count {
        let mut stream = TcpStream::connect("127.0.0.2:5000").map_err(|err| format!("connect: {err}"))?;
        stream.write_all(&request).map_err(|err| format!("client write: {err}"))?;
        stream.read_exact(&mut answer).map_err(|err| format!("client read: {err}"))?;
    }
    server.join().map_err(|_| "the server thread panicked".to_string())??;
    Ok(started.elapsed().as_secs_f64())
}

/// The same lifecycles as one scenario: a server that accepts, reads, answers and closes,
/// a client that connects, sends, reads and closes, `count` times.
pub fn lifecycle_scenario(count: usize) -> serde_json::Value {
    let mut server = vec![
        json!({"call": "socket", "as": "l"}),
        json!({"call": "bind", "fd": "l", "addr": "10.0.0.2:5000"}),
        json!({"call": "listen", "fd": "l", "backlog": 128}),
    ];
    let mut client = Vec::new();
    for _ in 0..count {
        server.push(json!({"call": "accept", "fd": "l", "as": "c"}));
        server.push(json!({"call": "recv", "fd": "c", "len": PAYLOAD}));
        server.push(json!({"call": "send", "fd": "c", "len": PAYLOAD}));
        server.push(json!({"call": "close", "fd": "c"}));
        client.push(json!({"call": "socket", "as": "s"}));
        client.push(json!({"call": "connect", "fd": "s", "addr": "10.0.0.2:5000"}));
        client.push(json!({"call": "send", "fd": "s", "len": PAYLOAD}));
        client.push(json!({"call": "recv", "fd": "s", "len": PAYLOAD}));
        client.push(json!({"call": "close", "fd": "s"}));
    }
    json!({
        "name": "bench-lifecycles",
        "hosts": [{"name": "client", "addr": "10.0.0.1"}, {"name": "server", "addr": "10.0.0.2"}],
        "processes": [
            {"name": "server", "host": "server", "steps": server},
            {"name": "client", "host": "client", "steps": client}
        ],
        "limits": {"max_events": 50_000_000u64, "max_time_ms": 36_000_000u64}
    })
}

fn engine_lifecycles(count: usize, facts: &KernelFacts) -> Result<(f64, usize), String> {
    // Built as a value, not text: 10,000 lifecycles are more than the 1 MiB a pasted
    // scenario may be, and are checked by the same validate() all the same.
    let scenario: sockscope_engine::Scenario =
        serde_json::from_value(lifecycle_scenario(count)).map_err(|err| format!("the benchmark scenario: {err}"))?;
    sockscope_engine::scenario::validate(&scenario).map_err(|err| format!("the benchmark scenario: {err}"))?;
    let scenario = loopback_profile(&scenario, facts);
    let started = Instant::now();
    let run = sockscope_engine::run(&scenario).map_err(|err| err.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let returned_closes = run
        .trace
        .events
        .iter()
        .filter(|event| matches!(&event.kind, sockscope_engine::EventKind::Syscall { process, call, phase: sockscope_engine::trace::Phase::Return, result: Some(0), .. } if process == "client" && call == "close"))
        .count();
    if returned_closes != count {
        return Err(format!("the engine completed {returned_closes} of {count} lifecycles"));
    }
    Ok((seconds, run.trace.events.len()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_median_is_the_middle_round() {
        assert_eq!(super::median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(&mut [4.0, 1.0, 3.0, 2.0]), 2.0);
        assert_eq!(super::median(&mut [0.8, 1.2, 0.9, 1.1, 5.0]), 1.1);
    }
}
