//! This module installs the external tools the web build and the browser tests need.
//!
//! Every installer first checks whether the tool is already present in the right version, and
//! prints what it is about to install before installing it. Nothing is ever downloaded except
//! through cargo (crates.io), rustup, apt-get (Debian) or npm. When apt-get would be needed but
//! we are not root, the command the user must run is printed instead and the step fails.
//!
//! wasm-opt needs care: binaryen releases before 110 (Debian bookworm ships 108) rewrite the
//! output of current wasm-bindgen into a module that fails at load time with `TypeError:
//! WebAssembly.Table.set(): Argument 1 is invalid for table`. When the `wasm-opt` on `PATH` is
//! that old, [`ensure_wasm_opt`] installs the npm build of binaryen into a folder under the
//! cargo target directory (no root needed, nothing global touched) and puts it first on
//! trunk's `PATH`.
//!
//! Trunk normally downloads `wasm-bindgen` and `wasm-opt` from GitHub when the copy on `PATH`
//! does not have the version it wants. Trunk 0.21 uses a system binary only when its version
//! equals the required one, and takes the required versions from the `TRUNK_TOOLS_WASM_BINDGEN`
//! and `TRUNK_TOOLS_WASM_OPT` environment variables when set. [`WebTools::trunk`] therefore
//! pins both to the versions installed here, so trunk always finds a match and never downloads.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::util::{self, cargo, probe, run, Result};

/// The trunk release this project is built and tested with.
pub const TRUNK_VERSION: &str = "0.21.14";

/// The rustc target the engine and the frontend compile to for the browser.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Debian's paths for the browser and its WebDriver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The oldest binaryen release seen to produce working pages with wasm-bindgen 0.2.130: a
/// `-Oz` page broke with 108 and 109 and worked with every release tried from 110 to 132.
pub const MIN_WASM_OPT: u32 = 110;

/// The npm `binaryen` release installed when the system wasm-opt is older than [`MIN_WASM_OPT`].
pub const NPM_BINARYEN: &str = "132.0.0";

/// Set once `apt-get update` has run, so it runs at most once per xtask invocation.
static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// The versions of the web toolchain found or installed, used to configure trunk.
#[derive(Debug, Clone, Default)]
pub struct WebTools {
    /// The wasm-bindgen version from Cargo.lock, when the workspace depends on wasm-bindgen.
    pub wasm_bindgen: Option<String>,
    /// The wasm-opt to use.
    pub wasm_opt: WasmOpt,
}

/// The wasm-opt trunk should use.
#[derive(Debug, Clone, Default)]
pub struct WasmOpt {
    /// Its version in trunk's notation, e.g. `version_132`.
    pub version: String,
    /// A folder to put first on trunk's `PATH`, when it is not the `wasm-opt` already there.
    pub bin_dir: Option<PathBuf>,
}

impl WebTools {
    /// Makes sure trunk, wasm-bindgen, wasm-opt and the wasm32 target are all installed.
    pub fn ensure(root: &Path) -> Result<Self> {
        ensure_wasm_target()?;
        ensure_trunk()?;
        let wasm_bindgen = ensure_wasm_bindgen(root)?;
        let wasm_opt = ensure_wasm_opt(root)?;
        Ok(Self { wasm_bindgen, wasm_opt })
    }

    /// Returns a `trunk` command that runs in `dir` and is pinned to the local tools.
    pub fn trunk(&self, dir: &Path) -> Command {
        let mut cmd = Command::new("trunk");
        cmd.current_dir(dir);
        // The update check is a network request and of no use in CI.
        cmd.env("TRUNK_SKIP_VERSION_CHECK", "true");
        if let Some(version) = &self.wasm_bindgen {
            cmd.env("TRUNK_TOOLS_WASM_BINDGEN", version);
        }
        cmd.env("TRUNK_TOOLS_WASM_OPT", &self.wasm_opt.version);
        if let Some(dir) = &self.wasm_opt.bin_dir {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let dirs = std::iter::once(dir.clone()).chain(std::env::split_paths(&path));
            if let Ok(joined) = std::env::join_paths(dirs) {
                cmd.env("PATH", joined);
            }
        }
        cmd
    }
}

/// Adds the wasm32 target with rustup when `rustup target list --installed` lacks it.
pub fn ensure_wasm_target() -> Result {
    let installed = probe(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or("could not run `rustup target list --installed`; is rustup installed?")?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        println!("rust target {WASM_TARGET} is installed");
        return Ok(());
    }
    println!("installing rust target {WASM_TARGET} with rustup");
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// Installs trunk from crates.io unless `trunk --version` already reports [`TRUNK_VERSION`].
pub fn ensure_trunk() -> Result {
    let found = probe(Command::new("trunk").arg("--version")).and_then(|out| version_word(&out, 1).map(str::to_string));
    if found.as_deref() == Some(TRUNK_VERSION) {
        println!("trunk {TRUNK_VERSION} is installed");
        return Ok(());
    }
    println!(
        "installing trunk {TRUNK_VERSION} with cargo install (found: {}); this takes about 5 minutes",
        found.as_deref().unwrap_or("none")
    );
    run(&mut cargo(["install", "--locked", "trunk", "--version", TRUNK_VERSION]))?;
    let now = probe(Command::new("trunk").arg("--version")).and_then(|out| version_word(&out, 1).map(str::to_string));
    if now.as_deref() == Some(TRUNK_VERSION) {
        Ok(())
    } else {
        Err(format!(
            "installed trunk {TRUNK_VERSION}, but `trunk` on PATH reports {}; \
             another trunk shadows ~/.cargo/bin/trunk",
            now.as_deref().unwrap_or("nothing")
        ))
    }
}

/// Installs the wasm-bindgen CLI matching the `wasm-bindgen` version in Cargo.lock, and returns
/// that version, or `None` when nothing in the workspace depends on wasm-bindgen yet.
pub fn ensure_wasm_bindgen(root: &Path) -> Result<Option<String>> {
    let lock_path = root.join("Cargo.lock");
    if !lock_path.exists() {
        // `cargo metadata` writes a missing lock file without updating an existing one.
        println!("Cargo.lock is missing; resolving the workspace to create it");
        let mut cmd = cargo(["metadata", "--format-version", "1", "--quiet"]);
        cmd.current_dir(root).stdout(std::process::Stdio::null());
        run(&mut cmd)?;
    }
    let lock =
        std::fs::read_to_string(&lock_path).map_err(|e| format!("could not read {}: {e}", lock_path.display()))?;
    let versions = lock_package_versions(&lock, "wasm-bindgen");
    let Some(wanted) = versions.first().cloned() else {
        println!("no `wasm-bindgen` package in Cargo.lock; the wasm-bindgen CLI is not needed yet");
        return Ok(None);
    };
    if versions.len() > 1 {
        println!(
            "warning: Cargo.lock holds several wasm-bindgen versions ({}); using {wanted}, \
             the one trunk picks",
            versions.join(", ")
        );
    }
    let found = installed_wasm_bindgen();
    if found.as_deref() == Some(wanted.as_str()) {
        println!("wasm-bindgen CLI {wanted} is installed (matches Cargo.lock)");
        return Ok(Some(wanted));
    }
    println!(
        "installing wasm-bindgen-cli {wanted} with cargo install to match Cargo.lock (found: {}); \
         not --locked, because one of its locked dependencies is missing from crates.io",
        found.as_deref().unwrap_or("none")
    );
    run(&mut cargo(["install", "wasm-bindgen-cli", "--version", wanted.as_str()]))?;
    let now = installed_wasm_bindgen();
    if now.as_deref() == Some(wanted.as_str()) {
        Ok(Some(wanted))
    } else {
        Err(format!(
            "installed wasm-bindgen-cli {wanted}, but `wasm-bindgen` on PATH reports {}",
            now.as_deref().unwrap_or("nothing")
        ))
    }
}

fn installed_wasm_bindgen() -> Option<String> {
    // Prints e.g. `wasm-bindgen 0.2.100`; trunk reads the second word the same way.
    probe(Command::new("wasm-bindgen").arg("--version")).and_then(|out| version_word(&out, 1).map(str::to_string))
}

/// Makes sure a wasm-opt of at least [`MIN_WASM_OPT`] is available: installs Debian's
/// `binaryen` when `wasm-opt` is missing, and the npm build of binaryen [`NPM_BINARYEN`] into
/// `<target>/xtask-tools/` when the one on `PATH` is too old.
pub fn ensure_wasm_opt(root: &Path) -> Result<WasmOpt> {
    let mut system = wasm_opt_version(Path::new("wasm-opt"));
    if system.is_none() {
        println!("wasm-opt is missing; installing the Debian package binaryen");
        apt_install(&["binaryen"])?;
        system = wasm_opt_version(Path::new("wasm-opt"));
        if system.is_none() {
            return Err("binaryen was installed but `wasm-opt --version` still fails".into());
        }
    }
    if let Some(version) = system.filter(|v| *v >= MIN_WASM_OPT) {
        println!("wasm-opt {version} is installed");
        return Ok(WasmOpt { version: format!("version_{version}"), bin_dir: None });
    }
    let old = system.unwrap_or_default();

    let prefix = util::target_dir(root).join("xtask-tools").join(format!("binaryen-{NPM_BINARYEN}"));
    let bin_dir = prefix.join("node_modules").join(".bin");
    let wanted = NPM_BINARYEN.split('.').next().and_then(|v| v.parse().ok());
    let local = wasm_opt_version(&bin_dir.join("wasm-opt"));
    if local.is_some() && local == wanted {
        println!(
            "wasm-opt {old} on PATH is older than {MIN_WASM_OPT}; using npm binaryen {NPM_BINARYEN} from {}",
            bin_dir.display()
        );
    } else if util::probe(Command::new("npm").arg("--version")).is_some() {
        println!(
            "wasm-opt {old} on PATH is older than {MIN_WASM_OPT} and breaks wasm-bindgen output; \
             installing the npm package binaryen@{NPM_BINARYEN} into {}",
            prefix.display()
        );
        std::fs::create_dir_all(&prefix).map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
        let mut install = Command::new("npm");
        install
            .args(["install", "--no-save", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("binaryen@{NPM_BINARYEN}"));
        run(&mut install)?;
        if wasm_opt_version(&bin_dir.join("wasm-opt")) != wanted {
            return Err(format!(
                "installed npm binaryen {NPM_BINARYEN}, but {} does not report that version",
                bin_dir.join("wasm-opt").display()
            ));
        }
    } else {
        println!(
            "warning: wasm-opt {old} is older than {MIN_WASM_OPT}, and npm is not available to \
             install a newer one. Release pages optimised with it fail to load; install npm \
             (apt-get install npm) or build with data-wasm-opt=\"0\"."
        );
        return Ok(WasmOpt { version: format!("version_{old}"), bin_dir: None });
    }
    Ok(WasmOpt { version: format!("version_{}", wanted.unwrap_or(old)), bin_dir: Some(bin_dir) })
}

/// Returns the binaryen release number of a wasm-opt binary, e.g. 108 for
/// `wasm-opt version 108` and 132 for `wasm-opt version 132 (version_132)`.
fn wasm_opt_version(program: &Path) -> Option<u32> {
    let out = probe(Command::new(program).arg("--version"))?;
    parse_wasm_opt_version(&out)
}

/// Parses the release number from `wasm-opt --version` output (the third word, as trunk does).
pub fn parse_wasm_opt_version(output: &str) -> Option<u32> {
    let word = version_word(output, 2)?;
    let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Installs Debian's `chromium` and `chromium-driver` when either binary is missing.
pub fn ensure_browser() -> Result {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push("chromium");
    }
    if !Path::new(CHROMEDRIVER).exists() {
        missing.push("chromium-driver");
    }
    if missing.is_empty() {
        println!("{CHROMIUM} and {CHROMEDRIVER} are installed");
        return Ok(());
    }
    println!("installing the Debian package(s) {} for the browser tests", missing.join(" "));
    apt_install(&missing)
}

/// Installs Debian's `nftables` when the `nft` command is missing. `sockscope validate` uses
/// it to drop segments and cut hosts off inside the network namespace of each real run; without
/// it the scenarios with faults are reported as engine-only. Off Debian the validator runs
/// without it and says why.
pub fn ensure_nftables() -> Result {
    if let Some(version) = probe(Command::new("nft").arg("--version")) {
        println!("{} is installed", version.trim());
        return Ok(());
    }
    if !util::is_debian() {
        println!(
            "`nft` is missing and this is not a Debian-like system: the scenarios with faults will be \
             reported as engine-only (install nftables to check them against the kernel)"
        );
        return Ok(());
    }
    println!("installing the Debian package nftables, which the validator uses to inject faults");
    apt_install(&["nftables"])
}

/// Installs Debian packages with apt-get, running `apt-get update` at most once per run.
/// Without root it only prints the command to run and fails.
fn apt_install(packages: &[&str]) -> Result {
    let list = packages.join(" ");
    if !util::is_debian() {
        return Err(format!(
            "this is not a Debian-like system; install the equivalent of `{list}` with your \
             package manager, then rerun"
        ));
    }
    if !util::is_root_on_linux() {
        println!("not running as root, so not installing; please run:");
        println!("    sudo apt-get update && sudo apt-get install -y --no-install-recommends {list}");
        return Err(format!("missing Debian package(s): {list}"));
    }
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        let mut update = Command::new("apt-get");
        update.arg("update").env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut update)?;
    }
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "--no-install-recommends"]).args(packages).env("DEBIAN_FRONTEND", "noninteractive");
    run(&mut install)
}

/// Returns the `n`th whitespace-separated word of the first line of a `--version` output.
pub fn version_word(output: &str, n: usize) -> Option<&str> {
    output.lines().next()?.split_whitespace().nth(n)
}

/// Returns, in file order, the versions of every `[[package]]` entry named `name` in the text
/// of a Cargo.lock file.
pub fn lock_package_versions(lock: &str, name: &str) -> Vec<String> {
    // One `[[package]]` entry as read so far: its name and version keys.
    #[derive(Default)]
    struct Entry {
        name: Option<String>,
        version: Option<String>,
    }

    let mut versions = Vec::new();
    let mut entry: Option<Entry> = None;
    let mut finish = |entry: Option<Entry>| {
        if let Some(Entry { name: Some(n), version: Some(v) }) = entry {
            if n == name {
                versions.push(v);
            }
        }
    };

    for raw in lock.lines() {
        let line = raw.trim();
        if line.starts_with('[') {
            // Any table header ends the current entry; only `[[package]]` starts a new one.
            finish(entry.take());
            if line == "[[package]]" {
                entry = Some(Entry::default());
            }
            continue;
        }
        let Some(current) = entry.as_mut() else {
            continue;
        };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let Some(value) = value.trim().strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else {
            continue;
        };
        match key.trim() {
            "name" => current.name = Some(value.to_string()),
            "version" => current.version = Some(value.to_string()),
            _ => {}
        }
    }
    finish(entry);
    versions
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "bumpalo",
 "wasm-bindgen-shared",
]

[[package]]
name = "wasm-bindgen"
version = "0.2.100"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "1edc8929d7499fc4e8f0be2262a241556cfc54a0bea223790e71446f1aab1ef5"
dependencies = [
 "cfg-if",
 "once_cell",
 "wasm-bindgen-macro",
]

[[package]]
name = "xtask"
version = "0.1.0"

[metadata]
name = "wasm-bindgen"
version = "9.9.9"
"#;

    #[test]
    fn finds_exact_package_only() {
        assert_eq!(lock_package_versions(LOCK, "wasm-bindgen"), ["0.2.100"]);
        assert_eq!(lock_package_versions(LOCK, "wasm-bindgen-backend"), ["0.2.99"]);
    }

    #[test]
    fn ignores_lock_file_version_and_other_tables() {
        // The top-level `version = 4` and the `[metadata]` table are not packages.
        assert_eq!(lock_package_versions(LOCK, "xtask"), ["0.1.0"]);
        assert!(lock_package_versions(LOCK, "serde").is_empty());
    }

    #[test]
    fn reports_every_version_in_order() {
        let lock = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n\
                    [[package]]\nversion = \"2.0.0\"\nname = \"a\"\n";
        assert_eq!(lock_package_versions(lock, "a"), ["1.0.0", "2.0.0"]);
    }

    #[test]
    fn handles_crlf_and_empty_input() {
        let lock = "[[package]]\r\nname = \"wasm-bindgen\"\r\nversion = \"0.2.93\"\r\n";
        assert_eq!(lock_package_versions(lock, "wasm-bindgen"), ["0.2.93"]);
        assert!(lock_package_versions("", "wasm-bindgen").is_empty());
    }

    #[test]
    fn version_words() {
        assert_eq!(version_word("trunk 0.21.14\n", 1), Some("0.21.14"));
        assert_eq!(version_word("wasm-bindgen 0.2.100", 1), Some("0.2.100"));
        assert_eq!(version_word("wasm-opt version 108\n", 2), Some("108"));
        assert_eq!(version_word("", 1), None);
    }

    #[test]
    fn wasm_opt_versions() {
        assert_eq!(parse_wasm_opt_version("wasm-opt version 108\n"), Some(108));
        assert_eq!(parse_wasm_opt_version("wasm-opt version 132 (version_132)\n"), Some(132));
        assert_eq!(parse_wasm_opt_version("wasm-opt version 116-beta"), Some(116));
        assert_eq!(parse_wasm_opt_version("wasm-opt"), None);
    }
}
