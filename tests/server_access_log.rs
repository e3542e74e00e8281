//! The server's access log (HTTP.jl `access_log` with `logfmt` variables) over real sockets.

use std::future::IntoFuture;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response};
use httpstack::middleware::access_log::AccessLogLayer;
use httpstack::server::{handler_fn, Server};
use httpstack::Body;

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn every_request_is_logged_with_peer_status_and_bytes() {
    let lines = Lines::default();
    let layer = AccessLogLayer::new(
        r#"$remote_addr "$request" $status $body_bytes_sent "$http_user_agent""#,
    )
    .unwrap()
    .writer(lines.clone());
    let server = Server::bind("127.0.0.1:0")
        .access_log_layer(layer)
        .serve(handler_fn(|req: Request<httpstack::Body>| async move {
            let status = if req.uri().path() == "/missing" {
                404
            } else {
                200
            };
            Response::builder()
                .status(status)
                .body(Body::from("hello"))
                .unwrap()
        }))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    let client = httpstack::Client::builder()
        .user_agent("probe/1")
        .status_exception(false)
        .build()
        .unwrap();
    for path in ["/a?x=1", "/missing"] {
        tokio::time::timeout(
            Duration::from_secs(10),
            client.get(format!("{base}{path}")).into_future(),
        )
        .await
        .unwrap()
        .unwrap();
    }
    // Lines are written when the body ends; give the server task a bounded moment.
    for _ in 0..100 {
        if lines.text().lines().count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let text = lines.text();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(
        got,
        [
            r#"127.0.0.1 "GET /a?x=1 HTTP/1.1" 200 5 "probe/1""#,
            r#"127.0.0.1 "GET /missing HTTP/1.1" 404 5 "probe/1""#
        ],
        "{text}"
    );
    server.close().await;
}

#[tokio::test]
async fn an_unknown_variable_fails_at_start_up() {
    let err = Server::bind("127.0.0.1:0")
        .access_log("$remote_addr $no_such_thing")
        .serve(handler_fn(|_req: Request<httpstack::Body>| async {
            Response::new(Body::empty())
        }))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    assert!(err.to_string().contains("$no_such_thing"), "{err}");
}
