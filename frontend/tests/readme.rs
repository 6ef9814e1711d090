//! README.md opens with pictures of the page, so that a newcomer sees what sockscope looks
//! like before reading about it. They are screenshots made by the browser tests
//! (`readme_screenshots` in `frontend/e2e/tests/browser.rs`), committed as small PNG files so
//! that they weigh little in every clone.

use std::path::{Path, PathBuf};

/// The most one picture may weigh.
const MAX_BYTES: usize = 80 * 1024;

/// `(alt text, path)` of each image in `text`, written in Markdown (`![alt](path)`) or as an
/// HTML `<img src="path" alt="alt">` (which can set a width, to show two side by side).
fn images(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("![") {
        rest = &rest[start + 2..];
        let Some((alt, after)) = rest.split_once("](") else { break };
        let Some((path, after)) = after.split_once(')') else { break };
        found.push((alt.to_string(), path.to_string()));
        rest = after;
    }
    let attribute = |tag: &str, name: &str| {
        let value = tag.split_once(&format!(" {name}=\""))?.1;
        value.split_once('"').map(|(value, _)| value.to_string())
    };
    for tag in text.split("<img").skip(1).filter_map(|tail| tail.split_once('>').map(|(tag, _)| tag)) {
        found.push((attribute(tag, "alt").unwrap_or_default(), attribute(tag, "src").unwrap_or_default()));
    }
    found
}

/// Width and height from a PNG's IHDR chunk, or `None` when `bytes` is not a PNG.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || !bytes.starts_with(SIGNATURE) || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let number = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Some((number(16), number(20)))
}

#[test]
fn the_readme_opens_with_small_screenshots_of_the_page() {
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md is readable");
    // Before the first section: what a reader sees on opening the repository.
    let head = readme.split("\n## ").next().unwrap_or_default();
    let pictures = images(head);
    assert!(!pictures.is_empty(), "README.md shows no picture of the page before its first section");
    for (alt, path) in pictures {
        assert!(alt.len() > 20, "{path}: its alt text `{alt}` should say what the picture shows");
        let bytes = std::fs::read(root.join(&path)).unwrap_or_else(|err| panic!("{path}: {err}"));
        let (width, height) = png_size(&bytes).unwrap_or_else(|| panic!("{path} is not a PNG"));
        assert!(width >= 300 && height >= 300, "{path} is {width}x{height}");
        assert!(bytes.len() <= MAX_BYTES, "{path} weighs {} bytes; optimise it (README.md says how)", bytes.len());
    }
}

#[test]
fn images_are_found_with_their_alt_text() {
    let text = "# t\n\n![The page](docs/a.png) and <img src=\"docs/b.png\" width=\"20%\" alt=\"a phone\">\n";
    assert_eq!(
        images(text),
        [("The page".to_string(), "docs/a.png".to_string()), ("a phone".to_string(), "docs/b.png".to_string())]
    );
    assert_eq!(png_size(b"GIF89a"), None);
}
