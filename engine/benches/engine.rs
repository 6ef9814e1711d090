//! Engine benchmarks: simulated events per second, and memory per open connection.
//!
//! Run with `cargo bench -p sockscope-engine` (or `cargo xtask bench`). Figures are printed,
//! never asserted: the target (2,000,000 events/s) is checked by reading them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use sockscope_engine::bench_support::PausedWorld;
use sockscope_engine::scenario::{AtEnd, Call, HostSpec, Limits, LinkSpec, ProcessSpec, Step, TcpSettings};
use sockscope_engine::{run, Scenario, SockAddr};

/// Counts live heap bytes, to measure what the simulated kernels hold per connection.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is kept.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn step(call: Call) -> Step {
    Step { call, at_ms: None, note: None, note_on_return: None, expect: None }
}

fn at(call: Call, at_ms: f64) -> Step {
    Step { call, at_ms: Some(at_ms), note: None, note_on_return: None, expect: None }
}

fn host(index: usize) -> HostSpec {
    HostSpec {
        name: format!("h{index}"),
        addr: format!("10.{}.{}.{}", index / 65536 % 256, index / 256 % 256, index % 256 + 1).parse().unwrap(),
        tcp: TcpSettings::default(),
    }
}

fn scenario(hosts: Vec<HostSpec>, links: Vec<LinkSpec>, processes: Vec<ProcessSpec>, faults: &str) -> Scenario {
    Scenario {
        name: "bench".into(),
        title: String::new(),
        source: String::new(),
        group: String::new(),
        description: String::new(),
        seed: 7,
        hosts,
        links,
        processes,
        faults: serde_json::from_str(faults).unwrap(),
        limits: Limits { max_events: usize::MAX, max_time_ms: 24 * 3600 * 1000 },
        predict: Default::default(),
    }
}

/// `pairs` client/server host pairs; each client runs `per_pair` lifecycles one after the
/// other: connect, 1 KB each way, close (the client closes first and keeps TIME_WAIT).
fn lifecycles(pairs: usize, per_pair: usize, faults: &str) -> Scenario {
    let mut hosts = Vec::new();
    let mut links = Vec::new();
    let mut processes = Vec::new();
    for pair in 0..pairs {
        let (client, server) = (host(2 * pair), host(2 * pair + 1));
        let server_addr = SockAddr::new(server.addr, 80);
        links.push(LinkSpec { a: client.name.clone(), b: server.name.clone(), latency_us: 500, mtu: 1500 });
        let mut server_steps = vec![
            step(Call::Socket { name: "l".into(), sock_type: Default::default() }),
            step(Call::Bind { fd: "l".into(), addr: "0.0.0.0:80".parse().unwrap() }),
            step(Call::Listen { fd: "l".into(), backlog: 128 }),
        ];
        let mut client_steps = Vec::new();
        for round in 0..per_pair {
            let c = format!("c{round}");
            server_steps.extend([
                step(Call::Accept { fd: "l".into(), name: c.clone() }),
                step(Call::Recv { fd: c.clone(), len: 1024 }),
                step(Call::Send { fd: c.clone(), data: None, len: Some(1024), more: false, eor: false }),
                step(Call::RecvToEof { fd: c.clone(), len: 1024 }),
                step(Call::Close { fd: c.clone() }),
            ]);
            let s = format!("s{round}");
            client_steps.extend([
                at(Call::Socket { name: s.clone(), sock_type: Default::default() }, 1.0 + (pair % 10) as f64),
                step(Call::Connect { fd: s.clone(), addr: server_addr }),
                step(Call::Send { fd: s.clone(), data: None, len: Some(1024), more: false, eor: false }),
                step(Call::Recv { fd: s.clone(), len: 1024 }),
                step(Call::Close { fd: s.clone() }),
            ]);
        }
        processes.push(ProcessSpec {
            name: format!("server{pair}"),
            host: server.name.clone(),
            steps: server_steps,
            at_end: AtEnd::Exit,
        });
        processes.push(ProcessSpec {
            name: format!("client{pair}"),
            host: client.name.clone(),
            steps: client_steps,
            at_end: AtEnd::Exit,
        });
        hosts.push(client);
        hosts.push(server);
    }
    scenario(hosts, links, processes, faults)
}

fn bulk(bytes: u32, faults: &str) -> Scenario {
    let (client, server) = (host(0), host(1));
    let server_addr = SockAddr::new(server.addr, 80);
    let links = vec![LinkSpec { a: client.name.clone(), b: server.name.clone(), latency_us: 500, mtu: 1500 }];
    let server_steps = vec![
        step(Call::Socket { name: "l".into(), sock_type: Default::default() }),
        step(Call::Bind { fd: "l".into(), addr: "0.0.0.0:80".parse().unwrap() }),
        step(Call::Listen { fd: "l".into(), backlog: 8 }),
        step(Call::Accept { fd: "l".into(), name: "c".into() }),
        step(Call::RecvToEof { fd: "c".into(), len: 65536 }),
        step(Call::Close { fd: "c".into() }),
    ];
    let client_steps = vec![
        at(Call::Socket { name: "s".into(), sock_type: Default::default() }, 1.0),
        step(Call::Connect { fd: "s".into(), addr: server_addr }),
        step(Call::Send { fd: "s".into(), data: None, len: Some(bytes), more: false, eor: false }),
        step(Call::Close { fd: "s".into() }),
    ];
    let processes = vec![
        ProcessSpec { name: "server".into(), host: server.name.clone(), steps: server_steps, at_end: AtEnd::Exit },
        ProcessSpec { name: "client".into(), host: client.name.clone(), steps: client_steps, at_end: AtEnd::Exit },
    ];
    scenario(vec![client, server], links, processes, faults)
}

/// Runs a scenario `rounds` times and prints the best rate.
fn measure(label: &str, scenario: &Scenario, rounds: usize) {
    let mut best = f64::MAX;
    let mut events = 0;
    let mut simulated = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let result = run(scenario).expect("benchmark scenarios finish");
        let elapsed = started.elapsed().as_secs_f64();
        events = result.trace.events.len();
        simulated = result.trace.events.last().map_or(0, |event| event.t_us);
        best = best.min(elapsed);
    }
    println!(
        "{label:<58} {events:>9} events in {:>8.1} ms = {:>6.2} M events/s ({:.1} s simulated)",
        best * 1e3,
        events as f64 / best / 1e6,
        simulated as f64 / 1e6
    );
}

/// Live heap bytes per open (ESTABLISHED) connection, both ends and their processes.
fn memory_per_connection(connections: usize) {
    let mut hosts = vec![host(0), host(1)];
    hosts[1].tcp.ephemeral_ports = Vec::new();
    let server_addr = SockAddr::new(hosts[1].addr, 80);
    let mut processes = Vec::new();
    let mut server_steps = vec![
        step(Call::Socket { name: "l".into(), sock_type: Default::default() }),
        step(Call::Bind { fd: "l".into(), addr: "0.0.0.0:80".parse().unwrap() }),
        step(Call::Listen { fd: "l".into(), backlog: 4096 }),
    ];
    for index in 0..connections {
        server_steps.push(step(Call::Accept { fd: "l".into(), name: format!("c{index}") }));
        processes.push(ProcessSpec {
            name: format!("client{index}"),
            host: "h0".into(),
            steps: vec![
                at(Call::Socket { name: "s".into(), sock_type: Default::default() }, 1.0),
                step(Call::Connect { fd: "s".into(), addr: server_addr }),
                step(Call::Sleep { ms: 3_600_000.0 }),
            ],
            at_end: AtEnd::Exit,
        });
    }
    server_steps.push(step(Call::Sleep { ms: 3_600_000.0 }));
    processes.push(ProcessSpec { name: "server".into(), host: "h1".into(), steps: server_steps, at_end: AtEnd::Exit });
    let links = vec![LinkSpec { a: "h0".into(), b: "h1".into(), latency_us: 500, mtu: 1500 }];
    let scenario = scenario(hosts, links, processes, "[]");
    let empty = {
        let mut empty = scenario.clone();
        empty.processes.clear();
        empty
    };
    let before = LIVE.load(Ordering::Relaxed);
    let baseline_world = PausedWorld::run_until(&empty, 10_000_000);
    let baseline = LIVE.load(Ordering::Relaxed) - before;
    drop(baseline_world);
    let before = LIVE.load(Ordering::Relaxed);
    let world = PausedWorld::run_until(&scenario, 10_000_000);
    let used = LIVE.load(Ordering::Relaxed) - before - baseline;
    let sockets = world.live_sockets();
    println!(
        "memory per open connection ({connections} ESTABLISHED, {sockets} live sockets incl. listener): {} bytes \
         (both ends, their processes and queued events)",
        used / connections as isize
    );
    drop(world);
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word picks benchmarks by name.
    let filter: Option<String> = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|filter| name.contains(filter));
    println!("sockscope-engine benchmarks (native, release; best of 3)");
    if wanted("lifecycles") {
        measure("lifecycles: 10,000 over 100 host pairs", &lifecycles(100, 100, "[]"), 3);
        measure(
            "lifecycles: 10,000 over 100 host pairs, 5% loss",
            &lifecycles(100, 100, r#"[{"fault":"loss","rate":0.05}]"#),
            3,
        );
    }
    if wanted("bulk") {
        measure("bulk: 10 MB at MSS 1460", &bulk(10 << 20, "[]"), 3);
        measure("bulk: 10 MB at MSS 1460, 1% loss", &bulk(10 << 20, r#"[{"fault":"loss","rate":0.01}]"#), 3);
    }
    if wanted("memory") {
        memory_per_connection(10_000);
    }
}
