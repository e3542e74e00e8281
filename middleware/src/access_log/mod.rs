//! Server access log: HTTP.jl's `access_log` with its `logfmt` variables, as a tower layer.
//!
//! HTTP.jl takes `access_log = logfmt"..."`, an nginx-style format string, and writes one
//! line per request. [`AccessLogLayer::new`] parses the same strings once, at start-up (an
//! unknown variable is an error naming it and its byte offset), and works around any
//! `tower::Service<http::Request<B>, Response = http::Response<ResB>>`: an httpstack
//! server, an axum app, a bare service. [`AccessLogLayer::common`] and
//! [`AccessLogLayer::combined`] are HTTP.jl's `common_logfmt` and `combined_logfmt`.
//!
//! | variable | value |
//! |---|---|
//! | `$remote_addr`, `$remote_port` | the client's IP and port, from the [`PeerAddr`] request extension (or a bare `SocketAddr`, or with the `axum` feature axum's `ConnectInfo<SocketAddr>`); `-` without one |
//! | `$remote_user` | the user name of `Authorization: Basic`, `-` without one |
//! | `$request` | the request line, `GET /index.html?q=1 HTTP/1.1` |
//! | `$request_method`, `$request_uri`, `$server_protocol` | its three parts (`HTTP/2.0` for HTTP/2, whose `$request_uri` is the `:path`) |
//! | `$status` | the response status; 500 if the service failed, 499 (nginx's "client closed request") if the request was dropped before a response |
//! | `$body_bytes_sent` | the response body's data bytes the server took, counted frame by frame |
//! | `$time_local` | `21/Nov/2026:09:19:14 +0000` (Common Log Format) |
//! | `$time_iso8601` | `2026-11-21T09:19:14+0000` (HTTP.jl's `%FT%T%z`) |
//! | `$http_<name>` | a request header, `_` standing for `-`, any case: `$http_user_agent`; `-` if absent |
//! | `$sent_http_<name>` | a response header, the same way: `$sent_http_content_type` |
//!
//! `${name}` works too (`${status}ms`), and `$$` is a literal `$`. Header values, the
//! target and the user name are escaped as nginx does by default (`"`, `\`, control and
//! non-ASCII bytes become `\xHH`), so a client cannot forge or break a line. A header sent
//! several times logs its first value, as HTTP.jl's `header` returns.
//!
//! The line is written when the response body ends, fails or is dropped, so
//! `$body_bytes_sent` is right for streamed bodies and a client that disconnects midway is
//! still logged. Times are taken then, in UTC: HTTP.jl logs local time, but the machine's
//! offset cannot be read safely from a multi-threaded process without a time-zone database,
//! so a fixed offset is set with [`AccessLogLayer::utc_offset_minutes`].
//!
//! Lines go to `tracing` as `INFO` events with target [`TRACING_TARGET`] — so nothing is
//! printed unless a `tracing` subscriber is installed — or, with
//! [`AccessLogLayer::writer`] / [`AccessLogLayer::to_stderr`], one `write_all` per line to
//! any `std::io::Write + Send`, no subscriber needed.
//!
//! Per request, the layer copies only what the format reads (the method and target if
//! logged, the named headers) and writes one line at the end; the body wrapper is not
//! boxed. Without the layer nothing is spent.
//!
//! ```
//! use std::io::Write;
//! use std::sync::{Arc, Mutex};
//!
//! use http_body_util::BodyExt;
//! use httpstack_middleware::access_log::{AccessLogLayer, PeerAddr};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! /// A writer the test can read back.
//! #[derive(Clone, Default)]
//! struct Lines(Arc<Mutex<Vec<u8>>>);
//! impl Write for Lines {
//!     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
//!         self.0.lock().unwrap().write(buf)
//!     }
//!     fn flush(&mut self) -> std::io::Result<()> {
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack_middleware::Error> {
//! let lines = Lines::default();
//! let svc = ServiceBuilder::new()
//!     .layer(
//!         AccessLogLayer::new(r#"$remote_addr "$request" $status $body_bytes_sent "$http_user_agent""#)?
//!             .writer(lines.clone()),
//!     )
//!     .service(service_fn(|_req: http::Request<()>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hello")))
//!     }));
//!
//! let mut req = http::Request::builder()
//!     .uri("/greet?lang=en")
//!     .header("user-agent", "curl/8.5.0")
//!     .body(())
//!     .unwrap();
//! // httpstack's server inserts this; other servers can do the same from their peer address.
//! req.extensions_mut().insert(PeerAddr("127.0.0.1:50000".parse().unwrap()));
//!
//! let resp = svc.oneshot(req).await.unwrap();
//! let body = resp.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(body, "hello");
//! // The line was written when the body ended.
//! assert_eq!(
//!     String::from_utf8(lines.0.lock().unwrap().clone()).unwrap(),
//!     "127.0.0.1 \"GET /greet?lang=en HTTP/1.1\" 200 5 \"curl/8.5.0\"\n"
//! );
//! # Ok(()) }
//! ```
//!
//! An unknown variable is reported at start-up:
//!
//! ```
//! use httpstack_middleware::access_log::AccessLogLayer;
//!
//! let err = AccessLogLayer::new("$status $request_time").unwrap_err();
//! assert!(err.is_invalid_input());
//! assert!(err.to_string().contains("unknown variable `$request_time` at byte 8"));
//! ```

mod body;
mod clock;
mod entry;
mod format;
mod future;
mod layer;
mod logger;
mod peer_addr;
mod service;
mod sink;

pub use body::AccessLogBody;
pub use format::{COMBINED_LOG_FORMAT, COMMON_LOG_FORMAT};
pub use future::ResponseFuture;
pub use layer::AccessLogLayer;
#[allow(deprecated)]
pub use peer_addr::{PeerAddr, RemoteAddr};
pub use service::AccessLog;
pub use sink::TRACING_TARGET;
