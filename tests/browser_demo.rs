//! httpstack in a real browser: headless Chromium loads the browser demo's page
//! (`examples/browser_demo/`), which runs its checks against the demo server and reports
//! each by POSTing JSON to it:
//! - Server-Sent Events: an `EventSource` reads an `sse_stream` route that drops the
//!   stream once;
//! - WebSocket: text, binary and large messages through a `ws::echo` route, then a close
//!   with 1000.

mod support;

#[path = "../examples/browser_demo/app.rs"]
mod app;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::peers::peer;
use support::within_for;

/// Bound on the page's whole run, Chromium's start-up included (slow on a busy machine).
const PAGE_WAIT: Duration = Duration::from_secs(45);

/// Headless Chromium on `url`, with a fresh profile; killed (with its helper processes,
/// which share its process group) when dropped.
struct Chromium {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Chromium {
    fn launch(binary: &Path, url: &str) -> Chromium {
        use std::os::unix::process::CommandExt as _;
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Chromium {
            child,
            _profile: profile,
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // SIGTERM first, so the browser shuts down and reaps its helpers itself (killed
        // outright, they are left to PID 1, which may not reap them); then SIGKILL for
        // whatever is left of the group this test created.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium() -> Option<PathBuf> {
    peer("chromium", "chromium")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_event_source_receives_events_in_order_across_a_reconnect() {
    let Some(binary) = chromium() else { return };
    let (server, demo) = app::start("127.0.0.1:0").await.unwrap();
    let (n, drop_after) = (10, 4);
    let url = format!(
        "http://127.0.0.1:{}/?n={n}&drop_after={drop_after}",
        server.port()
    );
    let _browser = Chromium::launch(&binary, &url);

    let report = within_for(PAGE_WAIT, "the page's SSE report", demo.report("sse")).await;
    let expected_data: Vec<String> = (1..=n).map(|i| format!("event {i}")).collect();
    let expected_ids: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    assert_eq!(report["timedOut"], serde_json::Value::Null, "{report}");
    assert_eq!(
        report["events"],
        serde_json::json!(expected_data),
        "{report}"
    );
    assert_eq!(
        report["lastEventIds"],
        serde_json::json!(expected_ids),
        "{report}"
    );
    assert!(
        report["errors"].as_u64() >= Some(1),
        "the page saw the drop: {report}"
    );
    assert!(
        report["opens"].as_u64() >= Some(2),
        "and reopened: {report}"
    );
    // The reconnection carried the last ID the browser had seen.
    assert_eq!(
        demo.last_event_ids(),
        [None, Some(drop_after.to_string())],
        "Last-Event-ID per connection"
    );
    within_for(PAGE_WAIT, "the page's final report", demo.report("done")).await;
    server.close().await;
}

/// The page's WebSocket messages, as (kind, bytes), in the order sent.
const WS_MESSAGES: &[(&str, usize)] = &[
    ("text", 5),
    ("binary", 4),
    // "héllo wörld ✓" in UTF-8.
    ("text", 17),
    ("binary", 200 * 1024),
    ("text", 70_000),
    ("text", 3),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_websocket_echoes_every_message_in_order_and_closes_cleanly() {
    let Some(binary) = chromium() else { return };
    let (server, demo) = app::start("127.0.0.1:0").await.unwrap();
    // A short SSE check first (the page runs its checks in turn).
    let url = format!("http://127.0.0.1:{}/?n=2&drop_after=1", server.port());
    let _browser = Chromium::launch(&binary, &url);

    let report = within_for(PAGE_WAIT, "the page's WebSocket report", demo.report("ws")).await;
    assert_eq!(report["timedOut"], serde_json::Value::Null, "{report}");
    assert_eq!(report["error"], serde_json::Value::Null, "{report}");
    assert_eq!(report["opened"], true, "{report}");
    let expected: Vec<serde_json::Value> = WS_MESSAGES
        .iter()
        .map(|(kind, bytes)| serde_json::json!({ "kind": kind, "bytes": bytes }))
        .collect();
    assert_eq!(report["sent"], serde_json::json!(expected), "{report}");
    let echoes = report["echoes"].as_array().expect("echoes");
    assert_eq!(echoes.len(), WS_MESSAGES.len(), "{report}");
    for (i, (echo, (kind, bytes))) in echoes.iter().zip(WS_MESSAGES).enumerate() {
        assert_eq!(
            echo,
            &serde_json::json!({ "kind": kind, "bytes": bytes, "same": true }),
            "echo {i}"
        );
    }
    assert_eq!(report["closeCode"], 1000, "{report}");
    assert_eq!(report["wasClean"], true, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    within_for(PAGE_WAIT, "the page's final report", demo.report("done")).await;
    server.close().await;
}
