//! permessage-deflate with a real browser: headless Chromium loads a page from an
//! httpstack server whose WebSocket route reports what the browser offered and what was
//! agreed; the page sends compressible text and binary messages and the echoes must come
//! back whole, then reports (as `report: ...` messages) what it got and
//! `WebSocket.extensions` as the browser saw it.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use http::{Request, Response};
use httpstack::server::handler_fn;
use httpstack::ws::{self, WebSocket};
use httpstack::Body;
use support::peers::peer;
use tokio::sync::mpsc;
use tower::Service;

/// Bound on the page's whole run, Chromium's start-up included.
const PAGE_WAIT: Duration = Duration::from_secs(60);

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>permessage-deflate</title>
<script>
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.binaryType = "arraybuffer";
const text = "JSON-ish text, compressible: " + '{"k":"v","n":12345}'.repeat(2000);
const binary = new Uint8Array(100000).fill(7);
let step = 0;
ws.onopen = () => { ws.send(text); };
ws.onmessage = (event) => {
  step += 1;
  if (step === 1) {
    ws.send(event.data === text ? "report: text ok" : "report: text differs");
    ws.send(binary);
  } else if (step === 2) {
    const got = new Uint8Array(event.data);
    const same = got.length === binary.length && got.every((b) => b === 7);
    ws.send(same ? "report: binary ok" : "report: binary differs");
    ws.send("report: extensions " + ws.extensions);
  }
};
</script>
"#;

/// Headless Chromium on `url`, killed with its helpers when dropped.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_negotiates_permessage_deflate() {
    let Some(binary) = peer("chromium", "chromium") else {
        return;
    };
    // What the route saw: the offer, the answer, then the page's reports.
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<String>();
    let upgrade = ws::upgrade(move |mut ws: WebSocket| {
        let seen_tx = seen_tx.clone();
        async move {
            let offer = ws.request().headers().get("sec-websocket-extensions");
            let _ = seen_tx.send(format!("offer {offer:?}"));
            let _ = seen_tx.send(format!("agreed {:?}", ws.extensions()));
            while let Some(message) = ws.next().await {
                let message = message?;
                match message.as_text().and_then(|t| t.strip_prefix("report: ")) {
                    Some(report) => {
                        let _ = seen_tx.send(report.to_owned());
                    }
                    None => ws.send(message).await?,
                }
            }
            Ok(())
        }
    });
    let server = httpstack::serve(
        "127.0.0.1:0",
        handler_fn(move |req: Request<Body>| {
            let answer = if req.uri().path() == "/ws" {
                match upgrade.clone().call(req).into_inner() {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            } else {
                Response::builder()
                    .header("content-type", "text/html; charset=utf-8")
                    .body(Body::from(PAGE))
                    .unwrap()
            };
            async move { answer }
        }),
    )
    .await
    .unwrap();
    let url = format!("http://{}/", server.local_addr());
    let _browser = Chromium::launch(&binary, &url);
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(PAGE_WAIT, async {
        while seen.len() < 5 {
            match seen_rx.recv().await {
                Some(line) => seen.push(line),
                None => break,
            }
        }
    })
    .await;
    println!("chromium: {seen:?}");
    assert_eq!(
        seen.len(),
        5,
        "the page's reports within {PAGE_WAIT:?}: {seen:?}"
    );
    assert!(
        seen[0].starts_with(r#"offer Some("permessage-deflate"#),
        "{seen:?}"
    );
    assert_eq!(seen[1], r#"agreed Some("permessage-deflate")"#, "{seen:?}");
    assert_eq!(seen[2], "text ok", "{seen:?}");
    assert_eq!(seen[3], "binary ok", "{seen:?}");
    assert_eq!(seen[4], "extensions permessage-deflate", "{seen:?}");
    server.close().await;
}
