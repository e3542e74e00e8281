//! `httpstack::h2::Session` as a server against a misbehaving client written with Python
//! `h2`'s frame and HPACK layers (`tests/fixtures/h2_bad_client.py`): each protocol error
//! gets the answer RFC 9113 gives it. The venv comes from `.ci/run`
//! (`HTTPSTACK_PEERS_VENV`); without it the test fails under `CI=true` and skips elsewhere.

use std::time::Duration;

mod support;
use support::h2_peers::session_server;
use support::python_peers::{venv_tool, Script};

#[tokio::test]
async fn protocol_errors_get_the_rfc_answer() {
    let Some(python) = venv_tool("python", "h2") else {
        return;
    };
    let ok = std::process::Command::new(&python)
        .args(["-c", "import h2, hpack, hyperframe"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !support::peers::in_ci(),
            "Python h2 missing from the peers venv under CI=true"
        );
        eprintln!("skipping: Python h2 not installed in the peers venv (run .ci/run)");
        return;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/h2_bad_client.py"
    );
    // (case, the RFC 9113 answers, the rule). A second HEADERS after END_STREAM meets a
    // half-closed (remote) stream (a stream error) or, once the server has answered and the
    // stream is closed, a connection error: which depends on how fast the server answered.
    let cases: [(&str, &[&str], &str); 5] = [
        (
            "bad_preface",
            &["GOAWAY 1"],
            "§3.4: invalid preface is PROTOCOL_ERROR",
        ),
        (
            "even_stream",
            &["GOAWAY 1"],
            "§5.1.1: a client's stream ids are odd",
        ),
        (
            "data_over_window",
            &["RST_STREAM 1 3"],
            "§6.9.1: DATA beyond the window is FLOW_CONTROL_ERROR",
        ),
        (
            "closed_stream",
            &["RST_STREAM 1 5"],
            "§6.1/§5.1: DATA on a closed stream is STREAM_CLOSED",
        ),
        (
            "headers_after_end_stream",
            &["RST_STREAM 1 5", "GOAWAY 5"],
            "§5.1: STREAM_CLOSED, a stream error while half-closed (remote), a connection \
             error once closed",
        ),
    ];
    let server = session_server(None).await;
    for (case, expected, rule) in cases {
        let port = server.addr.port().to_string();
        let mut child = Script::spawn(&python, &[script, &port, case]);
        let lines = child.rest(Duration::from_secs(20)).await;
        let answer = lines.last().map(String::as_str).unwrap_or_default();
        assert!(
            expected.contains(&answer),
            "{case} ({rule}): {lines:?}, expected one of {expected:?}"
        );
    }
}
