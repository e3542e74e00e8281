//! `file_server` side by side with nginx (Debian `nginx-light`) on the same files: for each
//! request — full GET, HEAD, byte ranges (first bytes, suffix, open-ended, past the end),
//! the conditional headers — status, `Content-Length`, `Content-Range`, `Last-Modified`
//! and the body must match. Each server is sent its own validators (nginx's ETag is
//! `"mtime-length"`, httpstack's adds the nanoseconds).
//!
//! Bodies are compared for 2xx and 304 only: nginx's 412 and 416 carry its HTML error
//! page, httpstack's are empty.
//!
//! Where nginx departs from RFC 9110, httpstack follows the RFC; those cases are in
//! [`DEPARTURES`], asserting each server's own answer.

mod support;

use httpstack::files::file_server;
use httpstack::server::serve;
use support::nginx::start_nginx;
use support::raw_http::RawResponse;
use support::static_files::{fetch, site, Validators};

type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Requests both servers must answer alike.
const CASES: &[Case] = &[
    ("GET", "/hello.txt", &[]),
    ("GET", "/data.bin", &[]),
    ("GET", "/big.bin", &[]),
    ("GET", "/a%20b.txt", &[]),
    ("HEAD", "/data.bin", &[]),
    ("HEAD", "/big.bin", &[]),
    ("GET", "/missing.txt", &[]),
    // Ranges.
    ("GET", "/data.bin", &[("Range", "bytes=0-9")]),
    ("GET", "/data.bin", &[("Range", "bytes=0-0")]),
    ("GET", "/data.bin", &[("Range", "bytes=-100")]),
    ("GET", "/data.bin", &[("Range", "bytes=-1")]),
    ("GET", "/data.bin", &[("Range", "bytes=-5000")]),
    ("GET", "/data.bin", &[("Range", "bytes=990-")]),
    ("GET", "/data.bin", &[("Range", "bytes=999-999")]),
    ("GET", "/data.bin", &[("Range", "bytes=500-5000")]),
    ("GET", "/data.bin", &[("Range", "bytes=1000-")]),
    ("GET", "/data.bin", &[("Range", "bytes=5000-6000")]),
    ("GET", "/big.bin", &[("Range", "bytes=4194304-4259839")]),
    // If-Range.
    (
        "GET",
        "/data.bin",
        &[("Range", "bytes=0-9"), ("If-Range", "{etag}")],
    ),
    (
        "GET",
        "/data.bin",
        &[("Range", "bytes=0-9"), ("If-Range", "\"stale\"")],
    ),
    (
        "GET",
        "/data.bin",
        &[("Range", "bytes=0-9"), ("If-Range", "{lm}")],
    ),
    (
        "GET",
        "/data.bin",
        &[("Range", "bytes=0-9"), ("If-Range", "{before}")],
    ),
    // 304.
    ("GET", "/data.bin", &[("If-None-Match", "{etag}")]),
    (
        "GET",
        "/data.bin",
        &[("If-None-Match", "\"other\", {etag}")],
    ),
    ("GET", "/data.bin", &[("If-None-Match", "W/{etag}")]),
    ("GET", "/data.bin", &[("If-None-Match", "*")]),
    ("GET", "/data.bin", &[("If-None-Match", "\"other\"")]),
    ("HEAD", "/data.bin", &[("If-None-Match", "{etag}")]),
    ("GET", "/data.bin", &[("If-Modified-Since", "{lm}")]),
    ("GET", "/data.bin", &[("If-Modified-Since", "{before}")]),
    // 412.
    ("GET", "/data.bin", &[("If-Match", "{etag}")]),
    ("GET", "/data.bin", &[("If-Match", "\"other\"")]),
    ("GET", "/data.bin", &[("If-Match", "*")]),
    ("GET", "/data.bin", &[("If-Unmodified-Since", "{before}")]),
    ("GET", "/data.bin", &[("If-Unmodified-Since", "{lm}")]),
    ("GET", "/data.bin", &[("If-Unmodified-Since", "{after}")]),
    // RFC 9110 §13.2.2 order.
    (
        "GET",
        "/data.bin",
        &[("If-Match", "\"other\""), ("If-None-Match", "{etag}")],
    ),
    (
        "GET",
        "/data.bin",
        &[
            ("If-Unmodified-Since", "{before}"),
            ("If-Modified-Since", "{lm}"),
        ],
    ),
    (
        "GET",
        "/data.bin",
        &[("If-Match", "{etag}"), ("If-None-Match", "{etag}")],
    ),
    (
        "GET",
        "/data.bin",
        &[("If-None-Match", "{etag}"), ("Range", "bytes=0-9")],
    ),
    (
        "GET",
        "/data.bin",
        &[("If-None-Match", "\"other\""), ("Range", "bytes=0-9")],
    ),
];

/// Where nginx departs from RFC 9110 and httpstack follows it: (request, nginx's
/// status, httpstack's status, why).
const DEPARTURES: &[(Case, u16, u16, &str)] = &[
    (
        ("GET", "/data.bin", &[("Range", "bytes=9-1")]),
        416,
        200,
        "RFC 9110 §14.1.1/§14.2: an invalid range-spec makes the Range field invalid, and \
         a server ignores it (200 with the whole file); nginx answers 416",
    ),
    (
        ("GET", "/data.bin", &[("Range", "bytes=abc")]),
        416,
        200,
        "a malformed Range is ignored (RFC 9110 §14.2); nginx answers 416",
    ),
    (
        ("GET", "/data.bin", &[("If-Modified-Since", "{after}")]),
        200,
        304,
        "RFC 9110 §13.1.3: not modified when Last-Modified is earlier than or equal to \
         the date; nginx's default `if_modified_since exact` wants equality",
    ),
];

fn header(res: &RawResponse, name: &str) -> Option<String> {
    res.header(name).map(str::to_owned)
}

#[tokio::test]
async fn file_server_answers_like_nginx() {
    let site = site();
    let Some(nginx) = start_nginx(site.path()) else {
        return;
    };
    let server = serve("127.0.0.1:0", file_server(site.path()))
        .await
        .expect("serve");
    let ours = Validators::of(server.local_addr(), "/data.bin").await;
    let theirs = Validators::of(nginx.addr(), "/data.bin").await;
    assert_eq!(
        ours.last_modified, theirs.last_modified,
        "Last-Modified of the same file"
    );

    let mut compared = 0;
    for (method, target, headers) in CASES {
        let ours_res = send(server.local_addr(), &ours, method, target, headers).await;
        let nginx_res = send(nginx.addr(), &theirs, method, target, headers).await;
        let case = format!(
            "{method} {target} {headers:?}\nnginx:\n{}\nhttpstack:\n{}",
            nginx_res.head, ours_res.head
        );
        assert_eq!(ours_res.status, nginx_res.status, "status: {case}");
        for name in [
            "content-length",
            "content-range",
            "last-modified",
            "accept-ranges",
        ] {
            if name == "content-length"
                && !(200..300).contains(&nginx_res.status)
                && nginx_res.status != 304
            {
                continue; // nginx's error page has a length of its own
            }
            if name == "accept-ranges" && nginx_res.status != 200 {
                continue;
            }
            assert_eq!(
                header(&ours_res, name),
                header(&nginx_res, name),
                "{name}: {case}"
            );
        }
        if (200..300).contains(&nginx_res.status) || nginx_res.status == 304 {
            assert!(ours_res.body == nginx_res.body, "body: {case}");
        }
        compared += 1;
    }
    assert_eq!(compared, CASES.len());

    for ((method, target, headers), nginx_status, our_status, why) in DEPARTURES {
        let ours_res = send(server.local_addr(), &ours, method, target, headers).await;
        let nginx_res = send(nginx.addr(), &theirs, method, target, headers).await;
        let case = format!("{method} {target} {headers:?} ({why})");
        assert_eq!(nginx_res.status, *nginx_status, "nginx: {case}");
        assert_eq!(ours_res.status, *our_status, "httpstack: {case}");
    }
    server.close().await;
    drop(nginx);
}

async fn send(
    addr: std::net::SocketAddr,
    validators: &Validators,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> RawResponse {
    let filled: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), validators.fill(v)))
        .collect();
    let refs: Vec<(&str, &str)> = filled
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    fetch(addr, method, target, &refs).await
}
