//! This module runs the browser end-to-end tests against a built page.
//!
//! The tests live in the crate `sockscope-frontend-e2e` at `frontend/e2e/`, which the frontend
//! engineer owns. This module serves the built `dist` folder with [`crate::serve_static`] on a
//! free 127.0.0.1 port, makes sure Chromium and chromedriver are installed, and runs the tests
//! one at a time with these environment variables:
//!
//! - `SOCKSCOPE_URL`: the served page, e.g. `http://127.0.0.1:41234/`;
//! - `SOCKSCOPE_CHROMIUM` and `SOCKSCOPE_CHROMEDRIVER`: the Debian paths of the browser and of
//!   its WebDriver, for tests that want to launch them;
//! - `SOCKSCOPE_BENCH=1`: only for `cargo xtask bench-web`, which also filters tests by `bench`
//!   and passes `--nocapture` so that the timings they print are shown.

use std::path::Path;

use crate::serve_static::StaticServer;
use crate::tools;
use crate::util::{cargo, repo_root, run, Result};

/// The package name of the browser test crate.
pub const E2E_PACKAGE: &str = "sockscope-frontend-e2e";

/// How a run of the browser tests differs from the default run.
#[derive(Debug, Default, Clone)]
pub struct E2eOptions {
    /// Extra libtest arguments after `--test-threads=1`, such as a name filter or `--nocapture`.
    pub test_args: Vec<String>,
    /// Extra environment variables for the test process.
    pub env: Vec<(String, String)>,
}

/// Whether the browser tests ran, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum E2eOutcome {
    /// The tests ran and passed.
    Passed,
    /// There is no `frontend/e2e/Cargo.toml` yet, so there was nothing to run.
    NoTests,
}

/// Serves `dist_dir` and runs every browser end-to-end test against it.
pub fn run_e2e(dist_dir: &Path) -> Result<E2eOutcome> {
    run_e2e_with(dist_dir, &E2eOptions::default())
}

/// Serves `dist_dir` and runs the browser end-to-end tests with the given options.
pub fn run_e2e_with(dist_dir: &Path, options: &E2eOptions) -> Result<E2eOutcome> {
    let root = repo_root();
    let manifest = root.join("frontend").join("e2e").join("Cargo.toml");
    if !manifest.exists() {
        println!("no browser end-to-end tests exist yet ({} not found); nothing to run", manifest.display());
        return Ok(E2eOutcome::NoTests);
    }
    if !dist_dir.join("index.html").is_file() {
        return Err(format!(
            "{} has no index.html; build the page before running the browser tests",
            dist_dir.display()
        ));
    }
    tools::ensure_browser()?;

    let server = StaticServer::start(dist_dir, "127.0.0.1:0", false)
        .map_err(|e| format!("could not start the static file server: {e}"))?;
    let url = server.url();
    println!("serving {} at {url}", dist_dir.display());

    let mut test = cargo(["test", "-p", E2E_PACKAGE, "--", "--test-threads=1"]);
    test.args(&options.test_args);
    test.current_dir(&root)
        .env("SOCKSCOPE_URL", &url)
        .env("SOCKSCOPE_CHROMIUM", tools::CHROMIUM)
        .env("SOCKSCOPE_CHROMEDRIVER", tools::CHROMEDRIVER);
    for (key, value) in &options.env {
        test.env(key, value);
    }
    let result = run(&mut test);
    server.stop();
    result.map(|()| E2eOutcome::Passed)
}
