//! The access log behind `axum::serve(.. into_make_service_with_connect_info::<SocketAddr>())`:
//! with the `axum` feature, `$remote_addr` comes from axum's `ConnectInfo` when no
//! `PeerAddr` is there, so a known peer never logs `-`.
#![cfg(feature = "axum")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use http::Request;
use http_body_util::BodyExt;
use httpstack_middleware::access_log::AccessLogLayer;
use httpstack_middleware::Body;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Lines written by the access log, shared with the test.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

#[tokio::test]
async fn remote_addr_comes_from_axum_connect_info() {
    let lines = Lines::default();
    let log = AccessLogLayer::new("$remote_addr $remote_port \"$request\" $status")
        .expect("format")
        .writer(lines.clone());
    let app = axum::Router::new()
        .route("/hi", get(|| async { "hi" }))
        .layer(log);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });

    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    let req = Request::get(format!("http://{addr}/hi"))
        .body(Body::empty())
        .expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .expect("in time")
        .expect("response");
    assert_eq!(
        resp.into_body().collect().await.expect("body").to_bytes(),
        "hi"
    );

    // The line is written when the response body ends, on the server's task.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while lines.text().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let text = lines.text();
    let (host, rest) = text.split_once(' ').expect("a line");
    assert_eq!(host, "127.0.0.1", "{text}");
    let port: u16 = rest
        .split(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    assert_ne!(port, 0, "{text}");
    assert!(text.ends_with("\"GET /hi HTTP/1.1\" 200\n"), "{text}");
}
