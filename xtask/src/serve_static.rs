//! This module is a tiny static file server built on `std::net::TcpListener` and one thread per
//! connection. It serves a built page (such as `frontend/dist`) to the browser tests and to
//! `cargo xtask serve --static`.
//!
//! It answers `GET` and `HEAD` only, sends one response per connection (`Connection: close`),
//! never caches, maps file extensions to the right `Content-Type` (browsers refuse to stream-
//! compile wasm served as anything but `application/wasm`), serves `index.html` for directory
//! paths, and refuses any path that would leave the served directory.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The longest request head (request line plus headers) the server accepts.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A running server; it stops when [`StaticServer::stop`] is called or the value is dropped.
pub struct StaticServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Binds `addr` (use port 0 for a free port) and starts serving the files under `root` on a
    /// background thread. With `log` set, every request is printed as `METHOD path -> status`.
    pub fn start(root: &Path, addr: impl ToSocketAddrs, log: bool) -> io::Result<Self> {
        let root = root
            .canonicalize()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot serve {}: {e}", root.display())))?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("cannot serve {}: not a directory", root.display()),
            ));
        }
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let root = Arc::new(root);
        let accept_thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("serve-static".into())
                .spawn(move || accept_loop(&listener, &root, &stop, log))?
        };
        Ok(Self { addr, stop, accept_thread: Some(accept_thread) })
    }

    /// The address actually bound, including the port picked when port 0 was requested.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the served directory, with a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr())
    }

    /// Blocks for as long as the server runs (normally until the process is interrupted).
    pub fn wait(mut self) {
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }

    /// Stops accepting connections and waits for the accept loop to end. Connections already
    /// being answered finish on their own threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.accept_thread.take() {
            // Wake the blocking `accept` with a throwaway connection so it sees the flag.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = thread.join();
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(listener: &TcpListener, root: &Arc<PathBuf>, stop: &AtomicBool, log: bool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            continue;
        };
        let root = Arc::clone(root);
        let spawned = std::thread::Builder::new().name("serve-static-conn".into()).spawn(move || {
            if let Err(e) = handle_connection(stream, &root, log) {
                if log {
                    eprintln!("serve-static: connection error: {e}");
                }
            }
        });
        if let Err(e) = spawned {
            eprintln!("serve-static: could not spawn a connection thread: {e}");
        }
    }
}

/// Returns the `Content-Type` for a file, chosen by its extension (case-insensitively).
pub fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "ico" => "image/x-icon",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Maps a request target such as `/pkg/app.wasm?v=1` to a file under `root`, or `None` when
/// the path is malformed or tries to leave `root`. Directory paths map to their `index.html`.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains('\\') || s.contains('\0') => return None,
            s => {
                // Reject anything `Path` would treat as more than one plain name (e.g. `C:`).
                let mut parts = Path::new(s).components();
                match (parts.next(), parts.next()) {
                    (Some(Component::Normal(_)), None) => file.push(s),
                    _ => return None,
                }
            }
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    Some(file)
}

/// Decodes `%XX` escapes; returns `None` for a broken escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn handle_connection(mut stream: TcpStream, root: &Path, log: bool) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;

    let Some(request_line) = read_request_head(&stream)? else {
        // The peer connected and closed without a request (e.g. the shutdown wake-up).
        return Ok(());
    };
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let head_only = method == "HEAD";

    let (status, content_type, body) = if method != "GET" && method != "HEAD" {
        ("405 Method Not Allowed", "text/plain; charset=utf-8", b"method not allowed\n".to_vec())
    } else {
        match resolve(root, target) {
            None => ("400 Bad Request", "text/plain; charset=utf-8", b"bad request path\n".to_vec()),
            Some(file) => {
                // A symlink may still point outside the root; only serve what really is inside.
                let inside = file.canonicalize().is_ok_and(|real| real.starts_with(root) && real.is_file());
                match inside.then(|| std::fs::read(&file)) {
                    Some(Ok(bytes)) => ("200 OK", content_type(&file), bytes),
                    Some(Err(_)) => {
                        ("500 Internal Server Error", "text/plain; charset=utf-8", b"could not read file\n".to_vec())
                    }
                    None => ("404 Not Found", "text/plain; charset=utf-8", b"not found\n".to_vec()),
                }
            }
        }
    };

    if log {
        println!("{method} {target} -> {status}");
    }
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(&body)?;
    }
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

/// Reads the request head up to the blank line and returns its first line, or `None` when the
/// peer sent nothing at all.
fn read_request_head(stream: &TcpStream) -> io::Result<Option<String>> {
    let mut reader = BufReader::new(stream.take(MAX_HEAD_BYTES as u64));
    let mut first = String::new();
    if reader.read_line(&mut first)? == 0 {
        return Ok(None);
    }
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    Ok(Some(first.trim_end().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases = [
            ("index.html", "text/html; charset=utf-8"),
            ("app-1a2b.js", "text/javascript; charset=utf-8"),
            ("app_bg.wasm", "application/wasm"),
            ("style.css", "text/css; charset=utf-8"),
            ("logo.svg", "image/svg+xml"),
            ("shot.png", "image/png"),
            ("scenario.json", "application/json"),
            ("UPPER.WASM", "application/wasm"),
            ("Makefile", "application/octet-stream"),
            ("archive.tar.gz", "application/octet-stream"),
        ];
        for (name, expected) in cases {
            assert_eq!(content_type(Path::new(name)), expected, "{name}");
        }
    }

    #[test]
    fn resolve_maps_paths_and_rejects_escapes() {
        let root = Path::new("/srv/site");
        assert_eq!(resolve(root, "/pkg/app.wasm?x=1#y"), Some(root.join("pkg/app.wasm")));
        assert_eq!(resolve(root, "/a%20b.css"), Some(root.join("a b.css")));
        assert_eq!(resolve(root, "/./x.js"), Some(root.join("x.js")));
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/%2e%2e/etc/passwd"), None);
        assert_eq!(resolve(root, "/a/..%2f..%2fb"), None);
        assert_eq!(resolve(root, "/a%5c..%5cb"), None);
        assert_eq!(resolve(root, "/bad%zz"), None);
        assert_eq!(resolve(root, "relative"), None);
    }

    fn get(addr: SocketAddr, target: &str) -> (String, Vec<u8>) {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(stream, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(response[..split].to_vec()).unwrap();
        (head, response[split + 4..].to_vec())
    }

    #[test]
    fn serves_files_over_tcp() {
        let dir = std::env::temp_dir().join(format!("xtask-serve-static-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html>hi").unwrap();
        std::fs::write(dir.join("pkg/app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();

        let server = StaticServer::start(&dir, "127.0.0.1:0", false).unwrap();
        let addr = server.addr();
        assert!(server.url().starts_with("http://127.0.0.1:"));

        let (head, body) = get(addr, "/");
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(head.contains("Content-Type: text/html; charset=utf-8"));
        assert_eq!(body, b"<!doctype html>hi");

        let (head, body) = get(addr, "/pkg/app_bg.wasm");
        assert!(head.contains("Content-Type: application/wasm"), "{head}");
        assert!(head.contains("Content-Length: 8"), "{head}");
        assert_eq!(body, b"\0asm\x01\0\0\0");

        let (head, _) = get(addr, "/missing.js");
        assert!(head.starts_with("HTTP/1.1 404"), "{head}");
        let (head, _) = get(addr, "/../secret");
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");

        server.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
