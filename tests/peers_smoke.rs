//! The third-party peers that `.ci/run` installs are present and work, so a peer test
//! that skips or fails points at the test, not at the machine.

mod support;

use std::io::ErrorKind;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// Command-line peers: the program and the package `.ci/run` installs it from.
const TOOLS: &[(&str, &str)] = &[("curl", "curl"), ("h2load", "nghttp2-client")];

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| ci == "true")
}

#[test]
fn httpbin_answers_get() {
    let Some(httpbin) = support::httpbin() else {
        return;
    };
    let response = support::raw_get(httpbin.addr, "/get").expect("GET /get from httpbin");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in response:\n{response}"));
    assert!(head.starts_with("HTTP/1.1 200"), "status line: {head}");
    let json: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("httpbin /get body is not JSON ({e}):\n{body}"));
    assert_eq!(json["url"], httpbin.url("/get"), "body: {json}");
}

#[test]
fn private_httpbin_stops_on_drop() {
    let Some(httpbin) = support::Httpbin::start() else {
        eprintln!("skipping: httpbin not installed (run .ci/run)");
        return;
    };
    let addr = httpbin.addr;
    let response = support::raw_get(addr, "/status/204").expect("GET /status/204");
    assert!(response.starts_with("HTTP/1.1 204"), "response: {response}");
    // Drop returns once the watchdog has reaped gunicorn, whose workers it has stopped,
    // so nothing listens on the port any more.
    drop(httpbin);
    let connect = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    assert!(
        connect.is_err(),
        "{addr} still accepts after the httpbin was dropped"
    );
}

#[test]
fn command_line_peers_run() {
    for &(tool, package) in TOOLS {
        match Command::new(tool).arg("--version").output() {
            Ok(output) => {
                assert!(
                    output.status.success(),
                    "`{tool} --version` failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                );
                let stdout = String::from_utf8_lossy(&output.stdout);
                eprintln!("{tool}: {}", stdout.lines().next().unwrap_or(""));
            }
            Err(e) if e.kind() == ErrorKind::NotFound && !in_ci() => {
                eprintln!(
                    "skipping {tool}: not installed (apt-get install {package}, or run .ci/run)"
                );
            }
            Err(e) => panic!("{tool} peer missing or broken: run .ci/run ({e})"),
        }
    }
}
