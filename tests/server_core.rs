//! The server core over real sockets on 127.0.0.1: HTTP/1.1 keep-alive, h2c, TLS with
//! ALPN, axum, handler failures, graceful and forced close, shutdown hooks, connection
//! accounting and `max_connections`.
//!
//! Clients: reqwest (HTTP/1.1, and HTTP/2 by prior knowledge), raw `TcpStream`s where the
//! connection itself is the subject, and tokio-rustls + hyper for TLS (reqwest is built
//! without TLS here). Every wait is bounded by [`WAIT`].

mod support;

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use httpstack::server::{handler_fn, serve, server_config_from_pem, Server};
use httpstack::{Body, ErrorKind};
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::raw_http::{connect, read_head, read_response, write};
use support::tls::tls_connect;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// The bound on every wait in these tests.
const WAIT: Duration = Duration::from_secs(5);

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    support::within_for(WAIT, what, future).await
}

/// Polls `condition` until it holds, failing the test after [`WAIT`].
async fn until(what: &str, condition: impl FnMut() -> bool) {
    support::until_for(WAIT, what, condition).await
}

/// Answers `"<version> <method> <path>"`, so a test sees which protocol carried it.
async fn echo(req: Request<httpstack::Body>) -> Response<String> {
    Response::new(format!(
        "{:?} {} {}",
        req.version(),
        req.method(),
        req.uri().path()
    ))
}

/// A handler with routes for the failure and lifecycle tests. `/slow` and `/hang` send on
/// `started` once the request is in the handler, so a test acts while it is in flight.
fn routes(
    started: mpsc::UnboundedSender<()>,
) -> impl tower::Service<
    Request<httpstack::Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
       + Send
       + 'static {
    handler_fn(move |req: Request<httpstack::Body>| {
        let started = started.clone();
        async move {
            match req.uri().path() {
                "/panic" => panic!("handler bug"),
                "/slow" => {
                    let _ = started.send(());
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Response::new(Body::from("done"))
                }
                "/hang" => {
                    let _ = started.send(());
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                "/stream" => {
                    Response::new(Body::from_stream(futures_util::stream::repeat_with(|| {
                        Ok::<_, Infallible>(Bytes::from_static(&[b'x'; 8192]))
                    })))
                }
                path => Response::new(Body::from(format!("ok {path}"))),
            }
        }
    })
}

fn url(server: &Server, path: &str) -> String {
    format!("http://{}{path}", server.local_addr())
}

/// Sends one HTTP/1.1 GET on `conn` and reads the response: (status line, body).
async fn raw_get<S>(conn: &mut BufReader<S>, path: &str) -> (String, String)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    write(
        conn,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    )
    .await;
    let response = read_response(conn).await;
    (
        response.status_line,
        String::from_utf8(response.body).expect("UTF-8 body"),
    )
}

#[tokio::test]
async fn serves_a_handler_fn_over_http1() {
    let server = within("serve", serve("127.0.0.1:0", handler_fn(echo)))
        .await
        .expect("serve");
    assert_ne!(server.port(), 0);
    assert_eq!(server.local_addr().port(), server.port());

    let response = within("GET", reqwest::get(url(&server, "/hello")))
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_11);
    assert_eq!(
        within("body", response.text()).await.expect("body"),
        "HTTP/1.1 GET /hello"
    );
    within("close", server.close()).await;
}

#[tokio::test]
async fn http1_keep_alive_serves_two_requests_on_one_connection() {
    let server = serve("127.0.0.1:0", handler_fn(echo)).await.expect("serve");
    let mut conn = connect(server.local_addr()).await;
    for path in ["/one", "/two"] {
        let (status, body) = within("keep-alive request", raw_get(&mut conn, path)).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "request {path}");
        assert_eq!(body, format!("HTTP/1.1 GET {path}"));
    }
    assert_eq!(server.connections(), 1, "both requests used one connection");
    drop(conn);
    within("close", server.close()).await;
}

#[tokio::test]
async fn h2c_by_prior_knowledge() {
    for http2_only in [false, true] {
        let builder = Server::bind("127.0.0.1:0");
        let builder = if http2_only {
            builder.http2_only()
        } else {
            builder
        };
        let server = builder.serve(handler_fn(echo)).await.expect("serve");
        let client = reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .expect("h2c client");
        let response = within("h2c GET", client.get(url(&server, "/h2c")).send())
            .await
            .expect("h2c GET");
        assert_eq!(
            response.version(),
            Version::HTTP_2,
            "http2_only {http2_only}"
        );
        assert_eq!(
            within("body", response.text()).await.expect("body"),
            "HTTP/2.0 GET /h2c"
        );
        within("close", server.close()).await;
    }
}

#[tokio::test]
async fn http1_only_refuses_h2c() {
    let server = Server::bind("127.0.0.1:0")
        .http1_only()
        .serve(handler_fn(echo))
        .await
        .expect("serve");
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("h2c client");
    let result = within("h2c GET", client.get(url(&server, "/")).send()).await;
    assert!(
        result.is_err(),
        "an HTTP/1-only server cannot answer h2c: {result:?}"
    );
    let response = within("h1 GET", reqwest::get(url(&server, "/h1")))
        .await
        .expect("h1 GET");
    assert_eq!(response.status(), StatusCode::OK);
    within("close", server.close()).await;
}

#[tokio::test]
async fn tls_speaks_h2_or_http1_by_alpn() {
    let cert = support::test_cert();
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &cert.cert_pem).expect("write cert");
    std::fs::write(&key_path, &cert.key_pem).expect("write key");
    let config = server_config_from_pem(&cert_path, &key_path).expect("TLS config");
    // A config without ALPN, as a user might build by hand: the server must add it.
    let mut bare = (*config).clone();
    bare.alpn_protocols.clear();

    let server = Server::bind("127.0.0.1:0")
        .tls(Arc::new(bare))
        .serve(handler_fn(echo))
        .await
        .expect("serve");

    // ALPN h2: HTTP/2 over TLS.
    let tls = tls_connect(server.local_addr(), &cert.ca_der, b"h2").await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("h2 handshake");
    tokio::spawn(conn);
    let request = Request::get(format!("https://localhost:{}/tls", server.port()))
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = within("h2 request", sender.send_request(request))
        .await
        .expect("h2 response");
    assert_eq!(response.version(), Version::HTTP_2);
    let body = within("h2 body", response.into_body().collect())
        .await
        .expect("h2 body")
        .to_bytes();
    assert_eq!(body, "HTTP/2.0 GET /tls");
    drop(sender);

    // ALPN http/1.1: a raw HTTP/1.1 request.
    let tls = tls_connect(server.local_addr(), &cert.ca_der, b"http/1.1").await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let mut conn = BufReader::new(tls);
    let (status, body) = within("TLS h1 request", raw_get(&mut conn, "/tls")).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, "HTTP/1.1 GET /tls");
    drop(conn);

    within("close", server.close()).await;
}

/// Answers `Upgrade: echo` with 101, then echoes 5 bytes on the upgraded connection.
async fn upgrade_echo(mut req: Request<httpstack::Body>) -> Response<String> {
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let mut io = TokioIo::new(upgrade.await.expect("upgrade"));
        let mut word = [0; 5];
        io.read_exact(&mut word).await.expect("read upgraded");
        io.write_all(&word).await.expect("write upgraded");
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(http::header::CONNECTION, "upgrade")
        .header(http::header::UPGRADE, "echo")
        .body(String::new())
        .expect("101 response")
}

#[tokio::test]
async fn http1_upgrades_work_with_and_without_http1_only() {
    for http1_only in [false, true] {
        let builder = Server::bind("127.0.0.1:0");
        let builder = if http1_only {
            builder.http1_only()
        } else {
            builder
        };
        let server = builder
            .serve(handler_fn(upgrade_echo))
            .await
            .expect("serve");
        let mut conn = connect(server.local_addr()).await;
        write(
            &mut conn,
            b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n",
        )
        .await;
        let head = within("101 head", read_head(&mut conn)).await;
        assert!(
            head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "http1_only {http1_only}: {head}"
        );
        write(&mut conn, b"hello").await;
        let mut echoed = [0; 5];
        within("echo", conn.read_exact(&mut echoed))
            .await
            .expect("read upgraded");
        assert_eq!(&echoed, b"hello", "http1_only {http1_only}");
        drop(conn);
        within("close", server.close()).await;
    }
}

#[tokio::test]
async fn serves_an_axum_router() {
    use axum::extract::Path;
    let app = axum::Router::new().route(
        "/hello/{name}",
        axum::routing::get(|Path(name): Path<String>| async move { format!("hello {name}") }),
    );
    let server = serve("127.0.0.1:0", app).await.expect("serve");
    let response = within("GET", reqwest::get(url(&server, "/hello/julia")))
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        within("body", response.text()).await.expect("body"),
        "hello julia"
    );
    let missing = within("GET", reqwest::get(url(&server, "/nope")))
        .await
        .expect("GET");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    within("close", server.close()).await;
}

#[tokio::test]
async fn handler_panic_is_a_500_and_the_connection_keeps_serving() {
    let (started, _) = mpsc::unbounded_channel();
    let server = serve("127.0.0.1:0", routes(started)).await.expect("serve");
    // One keep-alive connection: the panic must not take it down.
    let mut conn = connect(server.local_addr()).await;
    let (status, body) = within("panicking request", raw_get(&mut conn, "/panic")).await;
    assert_eq!(status, "HTTP/1.1 500 Internal Server Error");
    assert_eq!(body, "");
    let (status, body) = within("next request", raw_get(&mut conn, "/after")).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, "ok /after");
    drop(conn);
    within("close", server.close()).await;
}

#[tokio::test]
async fn service_error_is_a_500() {
    let service = tower::service_fn(|req: Request<httpstack::Body>| async move {
        match req.uri().path() {
            "/fail" => Err("database unavailable"),
            _ => Ok(Response::new(String::from("fine"))),
        }
    });
    let server = serve("127.0.0.1:0", service).await.expect("serve");
    for (path, expected) in [
        ("/fail", StatusCode::INTERNAL_SERVER_ERROR),
        ("/", StatusCode::OK),
    ] {
        let response = within("GET", reqwest::get(url(&server, path)))
            .await
            .expect("GET");
        assert_eq!(response.status(), expected, "case {path}");
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn close_finishes_the_in_flight_request_then_refuses_connections() {
    for h2c in [false, true] {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let server = serve("127.0.0.1:0", routes(started_tx))
            .await
            .expect("serve");
        let mut client = reqwest::Client::builder();
        if h2c {
            client = client.http2_prior_knowledge();
        }
        let request = client.build().expect("client").get(url(&server, "/slow"));
        let in_flight = tokio::spawn(async move {
            let response = request.send().await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.text().await?))
        });
        within("handler start", started.recv()).await;

        within("graceful close", server.close()).await;

        let (status, body) = within("in-flight response", in_flight)
            .await
            .expect("client task")
            .unwrap_or_else(|err| panic!("h2c {h2c}: in-flight request failed: {err}"));
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "done"),
            "h2c {h2c}"
        );
        assert_eq!(server.connections(), 0);
        assert!(
            TcpStream::connect(server.local_addr()).await.is_err(),
            "h2c {h2c}: a closed server must not accept"
        );
    }
}

#[tokio::test]
async fn force_close_ends_an_in_flight_request() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let server = serve("127.0.0.1:0", routes(started_tx))
        .await
        .expect("serve");
    let in_flight = tokio::spawn(reqwest::get(url(&server, "/hang")));
    within("handler start", started.recv()).await;

    server.force_close();

    let result = within("client sees the drop", in_flight)
        .await
        .expect("client task");
    assert!(result.is_err(), "force_close must cut the request off");
    within("wait after force_close", server.wait()).await;
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn grace_period_bounds_close() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let server = Server::bind("127.0.0.1:0")
        .grace_period(Duration::from_millis(100))
        .serve(routes(started_tx))
        .await
        .expect("serve");
    let in_flight = tokio::spawn(reqwest::get(url(&server, "/hang")));
    within("handler start", started.recv()).await;

    // The handler never finishes: close returns only because the grace period ends.
    within("close past the grace period", server.close()).await;

    let result = within("client sees the drop", in_flight)
        .await
        .expect("client task");
    assert!(result.is_err(), "the hanging request is dropped");
}

#[tokio::test]
async fn on_shutdown_hooks_run_in_order_after_close_or_force_close() {
    for force in [false, true] {
        let ran = Arc::new(Mutex::new(Vec::new()));
        let (first, second) = (ran.clone(), ran.clone());
        let server = Server::bind("127.0.0.1:0")
            .on_shutdown(move || first.lock().expect("lock").push("first"))
            .on_shutdown(|| panic!("a broken hook must not stop the others"))
            .on_shutdown(move || second.lock().expect("lock").push("second"))
            .serve(handler_fn(echo))
            .await
            .expect("serve");
        assert!(ran.lock().expect("lock").is_empty(), "no hook before close");
        if force {
            server.force_close();
            within("wait", server.wait()).await;
        } else {
            within("close", server.close()).await;
        }
        assert_eq!(
            *ran.lock().expect("lock"),
            ["first", "second"],
            "force {force}"
        );
    }
}

#[tokio::test]
async fn connections_return_to_zero_after_clients_disconnect() {
    let server = serve("127.0.0.1:0", handler_fn(echo)).await.expect("serve");
    let mut conns = Vec::new();
    for _ in 0..3 {
        let mut conn = connect(server.local_addr()).await;
        let (status, _) = within("request", raw_get(&mut conn, "/")).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        conns.push(conn);
    }
    assert_eq!(server.connections(), 3);
    drop(conns);
    until("connections back to 0", || server.connections() == 0).await;
    within("close", server.close()).await;
}

#[tokio::test]
async fn client_leaving_mid_response_leaves_no_connection_behind() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let server = serve("127.0.0.1:0", routes(started_tx))
        .await
        .expect("serve");

    // An endless body: the client reads a little and goes.
    let mut streaming = connect(server.local_addr()).await;
    streaming
        .get_mut()
        .write_all(b"GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut some = [0; 1024];
    within("first bytes", streaming.read_exact(&mut some))
        .await
        .expect("read");

    // A handler that never answers: the client goes while it waits.
    let mut hanging = connect(server.local_addr()).await;
    hanging
        .get_mut()
        .write_all(b"GET /hang HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    within("handler start", started.recv()).await;

    assert_eq!(server.connections(), 2);
    drop(streaming);
    drop(hanging);
    until("connections back to 0", || server.connections() == 0).await;
    within("close", server.close()).await;
}

#[tokio::test]
async fn max_connections_makes_further_clients_wait() {
    let server = Server::bind("127.0.0.1:0")
        .max_connections(1)
        .serve(handler_fn(echo))
        .await
        .expect("serve");
    let mut first = connect(server.local_addr()).await;
    let (status, _) = within("first request", raw_get(&mut first, "/first")).await;
    assert_eq!(status, "HTTP/1.1 200 OK");

    // The kernel completes the handshake, but the server does not accept it yet.
    let mut second = connect(server.local_addr()).await;
    second
        .get_mut()
        .write_all(b"GET /second HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut status = String::new();
    let early =
        tokio::time::timeout(Duration::from_millis(300), second.read_line(&mut status)).await;
    assert!(
        early.is_err(),
        "second client answered while the first held the only slot: {status:?}"
    );
    assert_eq!(server.connections(), 1);

    drop(first);
    within("second response", second.read_line(&mut status))
        .await
        .expect("status line");
    assert_eq!(status.trim_end(), "HTTP/1.1 200 OK");
    drop(second);
    within("close", server.close()).await;
}

#[tokio::test]
async fn dropping_the_handle_keeps_serving() {
    // Started from a spawned task, which also proves `serve`'s future is `Send`.
    let server = within(
        "serve",
        tokio::spawn(serve("127.0.0.1:0", handler_fn(echo))),
    )
    .await
    .expect("serve task")
    .expect("serve");
    let addr = server.local_addr();
    drop(server);
    let response = within("GET", reqwest::get(format!("http://{addr}/still")))
        .await
        .expect("GET after the handle is dropped");
    assert_eq!(
        within("body", response.text()).await.expect("body"),
        "HTTP/1.1 GET /still"
    );
}

#[tokio::test]
async fn bad_options_and_a_taken_port_are_errors() {
    let err = Server::bind("127.0.0.1:0")
        .http1_only()
        .http2_only()
        .serve(handler_fn(echo))
        .await
        .expect_err("conflicting protocols");
    assert!(err.is_invalid_input(), "{err}");

    let err = Server::bind("127.0.0.1:0")
        .max_connections(0)
        .serve(handler_fn(echo))
        .await
        .expect_err("zero connections");
    assert!(err.is_invalid_input(), "{err}");

    let server = serve("127.0.0.1:0", handler_fn(echo)).await.expect("serve");
    let err = serve(server.local_addr(), handler_fn(echo))
        .await
        .expect_err("port in use");
    assert_eq!(err.kind(), &ErrorKind::Server, "{err}");
    within("close", server.close()).await;
}
