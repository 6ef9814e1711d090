//! This crate is the project's task runner, invoked as `cargo xtask <command>` through the alias
//! in `.cargo/config.toml`. It runs the CI suite, serves and packages the web page, and runs the
//! benchmarks, using nothing but the standard library so that it compiles in seconds.
//!
//! Run `cargo xtask help` for the list of commands.

mod dist;
mod e2e;
mod fuzz;
mod serve_static;
mod tools;
mod util;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use e2e::{E2eOptions, E2eOutcome};
use tools::WebTools;
use util::{banner, cargo, run, skipped, Result};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test                  the CI suite, failing fast: rustfmt check, engine build for wasm32,
                        native tests, web build + browser tests, CLI `validate --all` (root only)
  serve [--port N] [--static]
                        build the frontend and serve it on http://127.0.0.1:8080 (or port N)
                        with `trunk serve`; with --static, serve frontend/dist with xtask's own
                        static file server instead (no rebuild on change)
  dist [--out DIR]      release build of the frontend, copied to DIR (default: <repo>/dist),
                        with every file's size and gzipped size
  bench                 cargo bench -p sockscope-engine
  bench-web             release build of the frontend, then the browser tests matching `bench`
                        with SOCKSCOPE_BENCH=1 and their output shown
  e2e [FILTER]          release build of the frontend, then only the browser tests (those whose
                        names contain FILTER, when given), with their output shown
  packetdrill [DIR]     run the packetdrill scripts under DIR in the engine (default: packetdrill's
                        suite in shared/packetdrill beside the checkout, when it is there) and print
                        each verdict beside the kernel's from DIR/kernel-results.txt
  fuzz [--seconds S] [TARGET...]
                        every fuzz target in fuzz/ (or those named) for S seconds each (default
                        60), from the seeds in fuzz/seeds/; prints executions and crashes per
                        target (needs the nightly toolchain and cargo-fuzz, installed if missing)
  help                  print this message

Tools (trunk, wasm-bindgen, wasm-opt, chromium, and nftables for `validate`) are installed on
first use via cargo, rustup, apt-get or npm only.";

/// The web page's sources; the page exists once `frontend/index.html` does.
const FRONTEND_DIR: &str = "frontend";

fn main() -> ExitCode {
    util::ensure_cargo_bin_on_path();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("error: no command given\n\n{USAGE}");
        return ExitCode::from(2);
    };
    let root = util::repo_root();
    let result = match command.as_str() {
        "test" => no_args(command, rest).and_then(|()| test(&root)),
        "serve" => serve(&root, rest),
        "dist" => dist(&root, rest),
        "bench" => no_args(command, rest).and_then(|()| bench(&root)),
        "bench-web" => no_args(command, rest).and_then(|()| bench_web(&root)),
        "e2e" => e2e_only(&root, rest),
        "packetdrill" => packetdrill(&root, rest),
        "fuzz" => fuzz::fuzz(&root, rest),
        "help" | "--help" | "-h" => {
            // Ignore a closed pipe (e.g. `cargo xtask help | head`) instead of panicking.
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("error: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nerror: {message}");
            ExitCode::FAILURE
        }
    }
}

fn no_args(command: &str, rest: &[String]) -> Result {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(format!("`{command}` takes no arguments (got `{extra}`); see `cargo xtask help`")),
    }
}

/// Returns the frontend directory when the page exists, i.e. `frontend/index.html` is present.
fn frontend_dir(root: &Path) -> Option<PathBuf> {
    let dir = root.join(FRONTEND_DIR);
    dir.join("index.html").is_file().then_some(dir)
}

/// Builds the page with trunk into `frontend/dist` and returns that folder.
fn trunk_build(tools: &WebTools, frontend: &Path, release: bool) -> Result<PathBuf> {
    let dist = frontend.join("dist");
    // Trunk.toml is at the repository's root, beside the frontend folder.
    let mut build = tools.trunk(frontend.parent().unwrap_or(frontend));
    build.arg("build");
    if release {
        build.arg("--release");
    }
    build.arg("--dist").arg(&dist);
    run(&mut build)?;
    Ok(dist)
}

/// `cargo xtask test`: the CI suite. Each step prints a banner; the first failure stops the run.
fn test(root: &Path) -> Result {
    const STEPS: usize = 5;
    let started = Instant::now();
    let mut skips = Vec::new();
    let step = |n: usize, what: &str| banner(&format!("[{n}/{STEPS}] {what}"));

    step(1, "formatting: cargo fmt --all -- --check");
    let mut fmt = cargo(["fmt", "--all", "--", "--check"]);
    run(fmt.current_dir(root))?;

    step(2, "engine builds for wasm32: cargo build -p sockscope-engine --target wasm32-unknown-unknown");
    tools::ensure_wasm_target()?;
    let mut wasm = cargo(["build", "-p", "sockscope-engine", "--target", tools::WASM_TARGET]);
    run(wasm.current_dir(root))?;

    step(3, "native unit, property and scenario tests: cargo test --workspace --exclude xtask");
    let mut native = cargo(["test", "--workspace", "--exclude", "xtask"]);
    if root.join(FRONTEND_DIR).join("e2e").join("Cargo.toml").is_file() {
        // The browser tests need a served page and a browser; step 4 runs them.
        native.args(["--exclude", e2e::E2E_PACKAGE]);
    }
    run(native.current_dir(root))?;

    step(4, "web page build and browser end-to-end tests");
    match frontend_dir(root) {
        None => {
            let why = "frontend/index.html does not exist yet (the frontend lands with its own issue)";
            skipped("step 4 (web build and browser tests)", why);
            skips.push(4);
        }
        Some(frontend) => {
            let web_tools = WebTools::ensure(root)?;
            let dist = trunk_build(&web_tools, &frontend, true)?;
            if e2e::run_e2e(&dist)? == E2eOutcome::NoTests {
                skipped("step 4 browser tests (the page built fine)", "frontend/e2e/Cargo.toml does not exist yet");
                skips.push(4);
            }
        }
    }

    step(5, "CLI check against the real kernel: cargo run -p sockscope -- validate --all");
    match validate_skip_reason(root)? {
        Some(why) => {
            skipped("step 5 (sockscope validate --all)", &why);
            skips.push(5);
        }
        None => {
            tools::ensure_nftables()?;
            let mut validate = cargo(["run", "-p", "sockscope", "--", "validate", "--all"]);
            run(validate.current_dir(root))?;
        }
    }

    let secs = started.elapsed().as_secs_f64();
    if skips.is_empty() {
        banner(&format!("all {STEPS} steps passed in {secs:.0}s"));
    } else {
        let list: Vec<String> = skips.iter().map(ToString::to_string).collect();
        banner(&format!("passed in {secs:.0}s; step(s) {} skipped or partly skipped, see above", list.join(", ")));
    }
    Ok(())
}

/// Decides whether step 5 runs: it needs Linux, root, and a CLI whose `help` lists `validate`.
/// Returns the reason to skip, or `None` to run it.
fn validate_skip_reason(root: &Path) -> Result<Option<String>> {
    if !cfg!(target_os = "linux") {
        return Ok(Some("not on Linux; validation compares against the Linux kernel".into()));
    }
    if !util::is_root_on_linux() {
        return Ok(Some("not running as root; validation against the real kernel needs root".into()));
    }
    if !root.join("cli").join("Cargo.toml").is_file() {
        return Ok(Some("the CLI crate (cli/Cargo.toml) does not exist yet".into()));
    }
    let mut build = cargo(["build", "-p", "sockscope"]);
    run(build.current_dir(root))?;
    let binary = util::target_dir(root).join("debug").join("sockscope");
    let output = std::process::Command::new(&binary)
        .arg("help")
        .current_dir(root)
        .output()
        .map_err(|e| format!("could not run `{} help`: {e}", binary.display()))?;
    let help = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if help.contains("validate") {
        Ok(None)
    } else {
        Ok(Some("`sockscope help` does not list a `validate` subcommand yet".into()))
    }
}

/// `cargo xtask serve`: build the page, then serve it (with trunk, or statically).
fn serve(root: &Path, args: &[String]) -> Result {
    let mut port: u16 = 8080;
    let mut static_only = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--static" => static_only = true,
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|_| format!("--port: `{value}` is not a port number"))?;
            }
            other => return Err(format!("serve: unknown option `{other}`; see `cargo xtask help`")),
        }
    }

    let Some(frontend) = frontend_dir(root) else {
        println!(
            "There is no web page to serve yet: {}/index.html does not exist. The frontend lands \
             with its own issue; building the CLI instead.",
            root.join(FRONTEND_DIR).display()
        );
        let mut build = cargo(["build", "-p", "sockscope"]);
        run(build.current_dir(root))?;
        println!("built {}", util::target_dir(root).join("debug").join("sockscope").display());
        return Ok(());
    };

    let web_tools = WebTools::ensure(root)?;
    let dist = trunk_build(&web_tools, &frontend, false)?;
    if static_only {
        let server = serve_static::StaticServer::start(&dist, ("127.0.0.1", port), true)
            .map_err(|e| format!("could not serve on 127.0.0.1:{port}: {e}"))?;
        println!("serving {} at {} (Ctrl-C to stop)", dist.display(), server.url());
        server.wait();
        Ok(())
    } else {
        let port = port.to_string();
        let mut serve = web_tools.trunk(frontend.parent().unwrap_or(&frontend));
        serve.args(["serve", "--address", "127.0.0.1", "--port", &port, "--dist"]).arg(&dist);
        run(&mut serve)
    }
}

/// `cargo xtask dist`: release build, copied to the output folder, with a size report.
fn dist(root: &Path, args: &[String]) -> Result {
    let mut out = root.join("dist");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => {
                let value = args.next().ok_or("--out needs a folder")?;
                // Relative to where the user ran the command, like any other CLI path.
                out = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?.join(value);
            }
            other => return Err(format!("dist: unknown option `{other}`; see `cargo xtask help`")),
        }
    }
    let Some(frontend) = frontend_dir(root) else {
        return Err(format!(
            "there is nothing to package yet: {}/index.html does not exist (the frontend lands \
             with its own issue)",
            root.join(FRONTEND_DIR).display()
        ));
    };
    let web_tools = WebTools::ensure(root)?;
    let built = trunk_build(&web_tools, &frontend, true)?;
    dist::replace_with_copy(&built, &out, root)?;
    dist::report(&out)
}

/// `cargo xtask bench`: the engine's benchmarks.
fn bench(root: &Path) -> Result {
    let mut bench = cargo(["bench", "-p", "sockscope-engine"]);
    run(bench.current_dir(root))
}

/// `cargo xtask packetdrill [DIR]`: a folder of scripts through `sockscope packetdrill`. A
/// script the engine fails is a finding to read, not an error of this command, so only a
/// command that could not run fails it.
fn packetdrill(root: &Path, rest: &[String]) -> Result {
    let dir = match rest {
        [] => {
            let suite = root.join("..").join("shared").join("packetdrill");
            if !suite.is_dir() {
                println!(
                    "packetdrill's suite is not beside the checkout ({}); give a folder of .pkt files: \
                     cargo xtask packetdrill DIR",
                    suite.display()
                );
                return Ok(());
            }
            suite
        }
        [dir] => PathBuf::from(dir),
        _ => return Err("packetdrill takes at most one folder".into()),
    };
    let mut command = cargo(["run", "-q", "-p", "sockscope", "--", "packetdrill"]);
    command.arg(&dir).current_dir(root);
    println!("$ cargo run -q -p sockscope -- packetdrill {}", dir.display());
    let status = command.status().map_err(|err| format!("could not start cargo: {err}"))?;
    match status.code() {
        Some(0 | 1) => Ok(()),
        _ => Err(format!("`sockscope packetdrill` failed ({status})")),
    }
}

/// `cargo xtask bench-web`: the browser benchmarks, run through the end-to-end test machinery.
/// The browser tests alone, for working on the page without the whole suite.
fn e2e_only(root: &Path, rest: &[String]) -> Result {
    let Some(frontend) = frontend_dir(root) else {
        return Err("frontend/index.html does not exist: there is no page to test".into());
    };
    let web_tools = WebTools::ensure(root)?;
    let dist = trunk_build(&web_tools, &frontend, true)?;
    let mut test_args: Vec<String> = rest.to_vec();
    test_args.push("--nocapture".into());
    let options = E2eOptions { test_args, env: Vec::new() };
    match e2e::run_e2e_with(&dist, &options)? {
        E2eOutcome::NoTests => Err("frontend/e2e/Cargo.toml does not exist: there are no browser tests".into()),
        _ => Ok(()),
    }
}

fn bench_web(root: &Path) -> Result {
    let Some(frontend) = frontend_dir(root) else {
        println!(
            "There are no browser benchmarks yet: {}/index.html does not exist (the frontend \
             lands with its own issue). Nothing to run.",
            root.join(FRONTEND_DIR).display()
        );
        return Ok(());
    };
    if !frontend.join("e2e").join("Cargo.toml").is_file() {
        println!(
            "There are no browser benchmarks yet: {}/e2e/Cargo.toml does not exist. Nothing to run.",
            frontend.display()
        );
        return Ok(());
    }
    let web_tools = WebTools::ensure(root)?;
    let dist = trunk_build(&web_tools, &frontend, true)?;
    let options = E2eOptions {
        test_args: vec!["bench".into(), "--nocapture".into()],
        env: vec![("SOCKSCOPE_BENCH".into(), "1".into())],
    };
    e2e::run_e2e_with(&dist, &options).map(|_| ())
}
