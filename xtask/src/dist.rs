//! This module copies a built page into the release folder and reports its size.
//!
//! The size report lists every file with its raw size and its gzipped size, because the gzipped
//! size is what a visitor actually downloads. Gzipped sizes come from the system `gzip -9`
//! (present on every Debian machine), which keeps xtask free of dependencies; when `gzip` is
//! unavailable the column reads `n/a`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{human_size, Result};

/// Replaces `out` with a copy of `built`, refusing to delete a folder that does not look like a
/// previous copy (it must be empty or contain an `index.html`).
pub fn replace_with_copy(built: &Path, out: &Path, root: &Path) -> Result {
    let built_real = built.canonicalize().map_err(|e| format!("cannot read {}: {e}", built.display()))?;
    if out.exists() {
        let out_real = out.canonicalize().map_err(|e| format!("cannot read {}: {e}", out.display()))?;
        let root_real = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        if root_real.starts_with(&out_real) || built_real.starts_with(&out_real) || out_real.starts_with(&built_real) {
            return Err(format!(
                "refusing to use {} as the output folder: it contains or overlaps the repository \
                 or the build output",
                out.display()
            ));
        }
        if !out_real.is_dir() {
            return Err(format!("{} exists and is not a folder", out.display()));
        }
        let empty =
            std::fs::read_dir(&out_real).map_err(|e| format!("cannot read {}: {e}", out.display()))?.next().is_none();
        if !empty && !out_real.join("index.html").is_file() {
            return Err(format!(
                "refusing to overwrite {}: it is not empty and has no index.html, so it does not \
                 look like an earlier dist output",
                out.display()
            ));
        }
        std::fs::remove_dir_all(&out_real).map_err(|e| format!("cannot remove the old {}: {e}", out.display()))?;
    }
    copy_tree(&built_real, out)
}

fn copy_tree(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        if source.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            std::fs::copy(&source, &target)
                .map_err(|e| format!("cannot copy {} to {}: {e}", source.display(), target.display()))?;
        }
    }
    Ok(())
}

/// Lists every file below `dir`, sorted by path.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| format!("cannot read {}: {e}", current.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("cannot read {}: {e}", current.display()))?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Returns the size of `file` after `gzip -9`, or `None` when gzip cannot be run.
pub fn gzipped_size(file: &Path) -> Option<u64> {
    let output = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(file)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output.status.success().then_some(output.stdout.len() as u64)
}

/// Prints the folder, then one line per file with its raw and gzipped sizes, then the totals.
/// The sizes of one part of the folder.
struct Total {
    size: u64,
    gz: Option<u64>,
    files: usize,
}

pub fn report(dir: &Path) -> Result {
    let files = files_under(dir)?;
    println!("dist written to {}", dir.display());
    println!("{:>12}  {:>12}  file", "size", "gzipped");
    // Totals per part: the files at the top are the page itself; each folder (the built-in
    // scenarios) is fetched a file at a time, so it is counted apart.
    let mut parts: Vec<(String, Total)> = Vec::new();
    for file in &files {
        let size = std::fs::metadata(file).map_err(|e| format!("cannot stat {}: {e}", file.display()))?.len();
        let gz = gzipped_size(file);
        let shown = file.strip_prefix(dir).unwrap_or(file);
        println!(
            "{:>12}  {:>12}  {}",
            human_size(size),
            gz.map_or_else(|| "n/a".to_string(), human_size),
            shown.display()
        );
        let part = match shown.components().count() {
            1 => "the page (files at the top)".to_string(),
            _ => format!("{}/", shown.components().next().map_or("?".into(), |c| c.as_os_str().to_string_lossy())),
        };
        let index = parts.iter().position(|(name, _)| *name == part).unwrap_or_else(|| {
            parts.push((part, Total { size: 0, gz: Some(0), files: 0 }));
            parts.len() - 1
        });
        let total = &mut parts[index].1;
        total.size += size;
        // One file whose gzipped size is unknown makes its part's gzipped total unknown.
        total.gz = total.gz.zip(gz).map(|(sum, gz)| sum + gz);
        total.files += 1;
    }
    for (part, total) in &parts {
        println!(
            "{:>12}  {:>12}  total of {part} ({} files)",
            human_size(total.size),
            total.gz.map_or_else(|| "n/a".to_string(), human_size),
            total.files
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_refuses_foreign_folders() {
        let base = std::env::temp_dir().join(format!("xtask-dist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let built = base.join("built");
        std::fs::create_dir_all(built.join("assets")).unwrap();
        std::fs::write(built.join("index.html"), "<html>").unwrap();
        std::fs::write(built.join("assets/app.js"), "x".repeat(1000)).unwrap();

        let out = base.join("out");
        replace_with_copy(&built, &out, &base.join("repo")).unwrap();
        assert_eq!(files_under(&out).unwrap(), [out.join("assets/app.js"), out.join("index.html")]);
        // A second run replaces the earlier copy.
        replace_with_copy(&built, &out, &base.join("repo")).unwrap();

        let foreign = base.join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "keep me").unwrap();
        assert!(replace_with_copy(&built, &foreign, &base.join("repo")).is_err());
        assert!(foreign.join("notes.txt").exists());

        if let Some(gz) = gzipped_size(&out.join("assets/app.js")) {
            assert!(gz < 1000, "1000 equal bytes must compress, got {gz}");
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
