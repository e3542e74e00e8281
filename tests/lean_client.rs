//! The lean client: `default-features = false, features = ["client"]`. CI runs this file
//! alone with exactly those features (`.ci/run`), so it may use nothing else of the crate;
//! the peer is a bare TCP server written here.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `answers` connections: reads one request head and writes `response`.
async fn raw_server(response: &'static str, answers: usize) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..answers {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    addr
}

async fn bounded<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f.into_future())
        .await
        .expect("bounded")
}

#[tokio::test]
async fn a_lean_client_gets_and_reports_statuses() {
    let addr = raw_server("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", 1).await;
    let resp = bounded(httpstack::get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text(), "hello");

    let addr = raw_server("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", 1).await;
    let err = bounded(httpstack::get(format!("http://{addr}/missing")))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND), "{err}");
}

/// Without a TLS feature and without an installed rustls provider, https:// is a clear
/// error, not a panic.
#[cfg(not(any(feature = "tls-aws-lc", feature = "tls-ring")))]
#[tokio::test]
async fn https_without_a_tls_provider_is_a_clear_error() {
    let err = match httpstack::Client::builder().build() {
        Err(err) => err,
        Ok(client) => bounded(client.get("https://127.0.0.1:9/"))
            .await
            .unwrap_err(),
    };
    assert!(err.is_invalid_input(), "{}", err.report());
    assert!(err.report().contains("tls-aws-lc"), "{}", err.report());
}
