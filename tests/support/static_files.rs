//! The static-file fixtures the file-server tests serve (generated into a tempdir), and a
//! raw request helper that also reads HEAD responses (head only).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::raw_http::{connect, read_head, read_response, write, RawResponse};
use super::within;

/// `hello.txt`.
pub const HELLO: &str = "Hello, world!\n";
/// The site's `index.html` (also the SPA fallback).
pub const INDEX: &str = "<!doctype html><title>app</title>";
/// `docs/index.html`.
pub const DOCS_INDEX: &str = "<h1>docs</h1>";
/// `README` (no extension: its type is sniffed).
pub const README: &str = "<html><body>read me</body></html>";
/// Length of `data.bin`.
pub const DATA_LEN: usize = 1000;
/// Length of `big.bin`: 8 MiB.
pub const BIG_LEN: usize = 8 << 20;

/// `data.bin`: bytes that differ from their neighbours, so a wrong offset shows.
pub fn data() -> Vec<u8> {
    (0..DATA_LEN).map(|i| (i * 7 % 251) as u8).collect()
}

/// `big.bin`.
pub fn big() -> Vec<u8> {
    (0..BIG_LEN).map(|i| (i % 253) as u8).collect()
}

/// A tempdir holding the fixture files.
pub struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    /// The root directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Writes the fixtures: `hello.txt`, `data.bin`, `big.bin`, `README`, `a b.txt`,
/// `index.html`, `docs/index.html` and an `empty/` directory without an index.
pub fn site() -> Site {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let files: [(&str, Vec<u8>); 7] = [
        ("hello.txt", HELLO.into()),
        ("data.bin", data()),
        ("big.bin", big()),
        ("README", README.into()),
        ("a b.txt", HELLO.into()),
        ("index.html", INDEX.into()),
        ("docs/index.html", DOCS_INDEX.into()),
    ];
    std::fs::create_dir(root.join("docs")).expect("mkdir docs");
    std::fs::create_dir(root.join("empty")).expect("mkdir empty");
    for (name, bytes) in files {
        std::fs::write(root.join(name), bytes).expect("write fixture");
    }
    Site { dir }
}

/// Sends `method target` with `headers` (and `Connection: close`) on a new connection
/// and reads the response; for HEAD only the head is read, whatever `Content-Length`
/// says.
pub async fn fetch(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> RawResponse {
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut conn = connect(addr).await;
    write(&mut conn, request).await;
    if method == "HEAD" {
        let head = within("HEAD response", read_head(&mut conn)).await;
        let status_line = head.lines().next().unwrap_or_default().to_owned();
        let status = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("status");
        RawResponse {
            status,
            status_line,
            head,
            body: Vec::new(),
            trailers: String::new(),
        }
    } else {
        within("response", read_response(&mut conn)).await
    }
}

/// A file's validators, read from a first GET, and dates a second before and after its
/// Last-Modified, substituted for `{etag}`, `{lm}`, `{before}` and `{after}` in the
/// conditional-request cases.
pub struct Validators {
    pub etag: String,
    pub last_modified: String,
    pub before: String,
    pub after: String,
}

impl Validators {
    pub async fn of(addr: SocketAddr, target: &str) -> Validators {
        let res = fetch(addr, "GET", target, &[]).await;
        let etag = res.header("etag").expect("etag").to_owned();
        let last_modified = res
            .header("last-modified")
            .expect("last-modified")
            .to_owned();
        let time = httpdate::parse_http_date(&last_modified).expect("HTTP-date");
        Validators {
            etag,
            before: httpdate::fmt_http_date(time - Duration::from_secs(1)),
            after: httpdate::fmt_http_date(time + Duration::from_secs(1)),
            last_modified,
        }
    }

    /// `value` with the placeholders filled in.
    pub fn fill(&self, value: &str) -> String {
        value
            .replace("{etag}", &self.etag)
            .replace("{lm}", &self.last_modified)
            .replace("{before}", &self.before)
            .replace("{after}", &self.after)
    }
}
