//! `openraw`: taking the connection over after a 101 (httpstack's own server, and a raw
//! server that sends bytes right behind the head) or a CONNECT 200 (tinyproxy).

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use httpstack::server::{handler_fn, serve, server_config_from_pem_bytes, Server};
use httpstack::{Body, Certificate, Client};
use hyper_util::rt::TokioIo;
use support::tinyproxy::Tinyproxy;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const LIMIT: Duration = Duration::from_secs(20);

async fn bounded<F: IntoFuture>(f: F) -> F::Output {
    support::within_for(LIMIT, "test step", f).await
}

/// `/upgrade` answers 101 and then echoes every byte upper-cased; `/plain` answers 200.
async fn upgrade_server() -> Server {
    serve("127.0.0.1:0", handler_fn(shout)).await.unwrap()
}

/// The same over TLS (h2 and http/1.1 by ALPN).
async fn tls_upgrade_server(cert: &support::TestCert) -> Server {
    let config =
        server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    Server::bind("127.0.0.1:0")
        .tls(config)
        .serve(handler_fn(shout))
        .await
        .unwrap()
}

async fn shout(mut req: Request<httpstack::Body>) -> Response<Body> {
    if req.uri().path() != "/upgrade" {
        return Response::new(Body::from("no upgrade here"));
    }
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut io = TokioIo::new(upgraded);
        let mut buf = [0u8; 1024];
        while let Ok(n) = io.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let upper = buf[..n].to_ascii_uppercase();
            if io.write_all(&upper).await.is_err() {
                break;
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "upgrade")
        .header("upgrade", "shout")
        .body(Body::empty())
        .unwrap()
}

async fn read_n(io: &mut (impl AsyncRead + Unpin), n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    bounded(io.read_exact(&mut buf)).await.unwrap();
    buf
}

#[tokio::test]
async fn upgrade_hands_over_the_connection() {
    let server = upgrade_server().await;
    let client = Client::builder().no_proxy().build().unwrap();
    let url = format!("http://127.0.0.1:{}/upgrade", server.port());

    for round in 0..2 {
        let (response, mut io, excess) = bounded(
            client
                .get(&url)
                .header("connection", "upgrade")
                .header("upgrade", "shout")
                .openraw(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 101, "round {round}");
        assert_eq!(response.headers()["upgrade"], "shout");
        assert!(excess.is_empty(), "the server speaks only when spoken to");
        // hyper handed back the client's own connection (so `excess` is meaningful).
        assert_eq!(format!("{io:?}"), "RawIo(connection)");
        for word in ["hello", "raw world"] {
            bounded(io.write_all(word.as_bytes())).await.unwrap();
            let echoed = read_n(&mut io, word.len()).await;
            assert_eq!(echoed, word.to_ascii_uppercase().as_bytes());
        }
        bounded(io.shutdown()).await.unwrap();
    }

    // Through Client::openraw with a ready-made request too.
    let request = Request::builder()
        .uri(&url)
        .header("connection", "upgrade")
        .header("upgrade", "shout")
        .body(Body::empty())
        .unwrap();
    let (response, mut io, _) = bounded(client.openraw(request)).await.unwrap();
    assert_eq!(response.status(), 101);
    bounded(io.write_all(b"abc")).await.unwrap();
    assert_eq!(read_n(&mut io, 3).await, b"ABC");

    // The client's pool still works for ordinary requests on the same server.
    let plain = format!("http://127.0.0.1:{}/plain", server.port());
    assert_eq!(
        bounded(client.get(&plain)).await.unwrap().text(),
        "no upgrade here"
    );
    server.close().await;
}

#[tokio::test]
async fn no_upgrade_is_a_status_error_with_the_response() {
    let server = upgrade_server().await;
    let client = Client::builder().no_proxy().build().unwrap();
    let url = format!("http://127.0.0.1:{}/plain", server.port());
    let err = bounded(client.get(&url).header("upgrade", "shout").openraw())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::OK), "{err}");
    assert!(err.to_string().contains("expected 101"), "{err}");
    let response = err.response().expect("the response rides along");
    assert_eq!(response.body().as_ref(), b"no upgrade here");
    server.close().await;
}

/// A server that writes the 101 head and the first bytes of the new protocol in one
/// write, then echoes what it reads.
async fn eager_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if s.read_exact(&mut byte).await.is_err() {
                return;
            }
            head.push(byte[0]);
        }
        let _ = s
            .write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\
                  Upgrade: eager\r\n\r\nWELCOME;",
            )
            .await;
        let mut buf = [0u8; 64];
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    port
}

#[tokio::test]
async fn bytes_behind_the_head_are_not_lost() {
    let port = eager_server().await;
    let client = Client::builder().no_proxy().build().unwrap();
    let (response, mut io, excess) = bounded(
        client
            .get(format!("http://127.0.0.1:{port}/"))
            .header("connection", "upgrade")
            .header("upgrade", "eager")
            .openraw(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 101);
    // The greeting came in the same write as the head, so it is normally in `excess`;
    // whatever part is not must be the first thing `io` yields, exactly once.
    let mut greeting = excess.to_vec();
    greeting.extend(read_n(&mut io, b"WELCOME;".len() - greeting.len()).await);
    assert_eq!(greeting, b"WELCOME;");
    bounded(io.write_all(b"ping")).await.unwrap();
    assert_eq!(read_n(&mut io, 4).await, b"ping");
}

#[tokio::test]
async fn connect_through_tinyproxy_opens_a_tunnel() {
    let Some(proxy) = Tinyproxy::start(Some(("tunnel", "pass"))) else {
        return;
    };
    let origin = serve(
        "127.0.0.1:0",
        handler_fn(|req: Request<httpstack::Body>| async move {
            Response::new(Body::from(format!("origin saw {}", req.uri())))
        }),
    )
    .await
    .unwrap();
    let target = format!("http://127.0.0.1:{}", origin.port());

    // With the proxy's credentials (sent on the CONNECT), the tunnel opens and carries
    // any bytes: here an HTTP/1.1 exchange written by hand.
    let client = Client::builder()
        .no_proxy()
        .proxy(&proxy.url_with("tunnel", "pass"))
        .build()
        .unwrap();
    let (response, mut io, excess) = bounded(client.request(Method::CONNECT, &target).openraw())
        .await
        .unwrap();
    assert!(response.status().is_success(), "{response:?}");
    assert!(excess.is_empty());
    bounded(
        io.write_all(
            format!(
                "GET /inside HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                origin.port()
            )
            .as_bytes(),
        ),
    )
    .await
    .unwrap();
    let mut answer = String::new();
    bounded(io.read_to_string(&mut answer)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("origin saw /inside"), "{answer}");
    assert!(
        proxy
            .log()
            .contains(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", origin.port())),
        "{}",
        proxy.log()
    );

    // Without credentials the proxy's 407 is a status error carrying its response.
    let anonymous = Client::builder()
        .no_proxy()
        .proxy(&proxy.url())
        .build()
        .unwrap();
    let err = bounded(anonymous.request(Method::CONNECT, &target).openraw())
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        Some(StatusCode::PROXY_AUTHENTICATION_REQUIRED),
        "{err}"
    );
    origin.close().await;
}

/// `wss://`'s path: TLS to the origin, directly or in a CONNECT tunnel, with a client that
/// prefers HTTP/2 — openraw still gets an HTTP/1.1 connection it can take over.
#[tokio::test]
async fn upgrade_over_tls_even_when_the_client_prefers_http2() {
    let cert = support::test_cert();
    let server = tls_upgrade_server(&cert).await;
    let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    let url = format!("https://localhost:{}/upgrade", server.port());
    let proxy = Tinyproxy::start(None);
    let mut clients = vec![("direct", Client::builder().no_proxy())];
    if let Some(proxy) = &proxy {
        clients.push(("through tinyproxy", Client::builder().proxy(&proxy.url())));
    }
    for (route, builder) in clients {
        let client = builder.add_root_certificate(ca.clone()).build().unwrap();
        // Ordinary requests of this client still use HTTP/2.
        let plain = format!("https://localhost:{}/plain", server.port());
        let resp = bounded(client.get(&plain)).await.unwrap();
        assert_eq!(resp.version(), http::Version::HTTP_2, "{route}");
        let (response, mut io, _) = bounded(
            client
                .get(&url)
                .header("connection", "upgrade")
                .header("upgrade", "shout")
                .openraw(),
        )
        .await
        .unwrap_or_else(|e| panic!("{route}: {e}"));
        assert_eq!(response.status(), 101, "{route}");
        assert_eq!(response.version(), http::Version::HTTP_11, "{route}");
        bounded(io.write_all(b"secure")).await.unwrap();
        assert_eq!(read_n(&mut io, 6).await, b"SECURE", "{route}");
    }
    if let Some(proxy) = &proxy {
        let log = proxy.log();
        assert!(
            log.contains(&format!("CONNECT localhost:{}", server.port())),
            "{log}"
        );
    }
    server.close().await;
}

#[tokio::test]
async fn upgrade_with_an_h2c_prior_knowledge_client() {
    let server = upgrade_server().await;
    let client = Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let plain = format!("http://127.0.0.1:{}/plain", server.port());
    let resp = bounded(client.get(&plain)).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let url = format!("http://127.0.0.1:{}/upgrade", server.port());
    let (response, mut io, _) = bounded(
        client
            .get(&url)
            .header("connection", "upgrade")
            .header("upgrade", "shout")
            .openraw(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 101);
    bounded(io.write_all(b"h1")).await.unwrap();
    assert_eq!(read_n(&mut io, 2).await, b"H1");
    server.close().await;
}

/// The WebSocket client moves the connection into tasks and splits it.
#[test]
fn raw_io_is_send_and_unpin() {
    fn check<T: Send + Unpin + 'static>() {}
    check::<httpstack::client::RawIo>();
}

/// `ws://`'s path through an HTTP proxy: a CONNECT tunnel, not a forwarded request (a
/// forwarding proxy drops `Upgrade`; RFC 6455 §4.1).
#[tokio::test]
async fn plain_http_upgrades_tunnel_through_an_http_proxy() {
    let Some(proxy) = Tinyproxy::start(Some(("u", "pw"))) else {
        return;
    };
    let server = upgrade_server().await;
    let client = Client::builder()
        .no_proxy()
        .proxy(&proxy.url_with("u", "pw"))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{}/upgrade", server.port());
    let (response, mut io, _) = bounded(
        client
            .get(&url)
            .header("connection", "upgrade")
            .header("upgrade", "shout")
            .openraw(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 101);
    bounded(io.write_all(b"tunnel")).await.unwrap();
    assert_eq!(read_n(&mut io, 6).await, b"TUNNEL");
    let log = proxy.log();
    assert!(
        log.contains(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port())),
        "{log}"
    );
    // Ordinary requests of the same client are still forwarded.
    let plain = format!("http://127.0.0.1:{}/plain", server.port());
    assert_eq!(
        bounded(client.get(&plain)).await.unwrap().text(),
        "no upgrade here"
    );
    assert!(
        proxy
            .log()
            .contains(&format!("GET http://127.0.0.1:{}/plain", server.port())),
        "{}",
        proxy.log()
    );
    server.close().await;
}
