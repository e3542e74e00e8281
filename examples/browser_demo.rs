//! httpstack in a real browser: serves a page whose checks run against this server and
//! report back by POSTing JSON (printed here as they arrive). The first check opens an
//! `EventSource` on an `sse_stream` route that drops the stream once, so the browser
//! reconnects with `Last-Event-ID`; the second opens a `WebSocket` on a `ws::echo` route
//! and checks that text, binary and large messages come back in order, then closes with
//! 1000. `tests/browser_demo.rs` runs the same app under headless Chromium.
//!
//! Run: `cargo run --example browser_demo [ADDR]` (default `127.0.0.1:8080`), then open the
//! printed URL; stop with Ctrl-C.

#[path = "browser_demo/app.rs"]
mod app;

#[tokio::main]
async fn main() -> Result<(), httpstack::Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let (server, demo) = app::start(&addr).await?;
    println!("open http://{}/ (Ctrl-C to stop)", server.local_addr());
    let watcher = demo.clone();
    tokio::spawn(async move {
        watcher.report("done").await;
        println!(
            "all checks reported; Last-Event-ID of each SSE connection: {:?}",
            watcher.last_event_ids()
        );
    });
    let _ = tokio::signal::ctrl_c().await;
    server.close().await;
    Ok(())
}
