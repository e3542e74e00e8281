//! The WebSocket handshake, as HTTP.jl 2.x makes it safe: the server's origin policy
//! (same-origin by default, a list, any, a custom check), RFC 6455 §4.2.1's checks of
//! the request (key, version, HTTP/1.0, a body), the client refusing a `101` that picks
//! what it did not offer, following redirects, close codes that may not be sent, and
//! `is_ready`. Every case runs against a real server on 127.0.0.1.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use httpstack::server::{handler_fn, Server};
use httpstack::ws::{self, WebSocket};
use support::raw_http::exchange;
use support::within;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A handshake request to `addr` with `extra` header lines (each ending in CRLF).
fn handshake(addr: SocketAddr, extra: &str) -> String {
    format!(
        "GET /chat HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

async fn echo_on(service: ws::Upgrade<ws::EchoHandler>) -> Server {
    Server::bind("127.0.0.1:0").serve(service).await.unwrap()
}

#[tokio::test]
async fn same_origin_is_the_default_policy() {
    let server = echo_on(ws::echo()).await;
    let addr = server.local_addr();
    let port = addr.port();
    // (Host, Origin, status)
    let cases: Vec<(String, Option<String>, u16)> = vec![
        (addr.to_string(), None, 101),
        (addr.to_string(), Some(format!("http://{addr}")), 101),
        (addr.to_string(), Some(format!("HTTP://{addr}")), 101),
        (
            format!("localhost:{port}"),
            Some(format!("https://LocalHost:{port}")),
            101,
        ),
        ("example.com".into(), Some("http://example.com".into()), 101),
        (
            "example.com".into(),
            Some("https://example.com:443".into()),
            101,
        ),
        (
            "example.com:8080".into(),
            Some("http://example.com".into()),
            403,
        ),
        (addr.to_string(), Some("http://evil.example".into()), 403),
        (
            addr.to_string(),
            Some(format!("http://127.0.0.1:{}", port ^ 1)),
            403,
        ),
        (
            addr.to_string(),
            Some(format!("http://evil.example:{port}")),
            403,
        ),
        (addr.to_string(), Some("null".into()), 403),
        (addr.to_string(), Some("not a url".into()), 403),
    ];
    for (host, origin, status) in cases {
        let origin_line = origin
            .as_ref()
            .map(|o| format!("Origin: {o}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{origin_line}\r\n"
        );
        let response = exchange(addr, request.as_bytes()).await;
        assert_eq!(
            response.status, status,
            "case {host} {origin:?}: {response:?}"
        );
    }

    // Our own client, as a cross-site page would send it: refused with a status error.
    let url = format!("ws://{addr}/");
    let err = within(
        "open",
        ws::connect(&url).header("Origin", "https://evil.example"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403), "{err}");
    let mut ws = within(
        "open",
        ws::connect(&url).header("Origin", format!("http://{addr}")),
    )
    .await
    .unwrap();
    ws.send("same origin").await.unwrap();
    assert_eq!(ws.receive().await.unwrap().as_text(), Some("same origin"));
    server.close().await;
}

#[tokio::test]
async fn origin_settings_any_list_and_check() {
    let any = echo_on(ws::echo().allow_any_origin()).await;
    let list = echo_on(ws::echo().allowed_origins(["https://app.example"])).await;
    let check = echo_on(ws::echo().check_origin(|origin, request| {
        origin.ends_with(".trusted.example") && request.uri().path() == "/chat"
    }))
    .await;
    // (server, Origin, status)
    let cases: Vec<(&Server, &str, u16)> = vec![
        (&any, "https://evil.example", 101),
        (&any, "null", 101),
        (&list, "https://app.example", 101),
        (&list, "https://APP.example", 101),
        (&list, "https://evil.example", 403),
        // A list replaces same-origin: the server's own origin is not in it.
        (&list, "http://127.0.0.1", 403),
        (&check, "https://a.trusted.example", 101),
        (&check, "https://trusted.example.evil", 403),
    ];
    for (server, origin, status) in cases {
        let addr = server.local_addr();
        let request = handshake(addr, &format!("Origin: {origin}\r\n"));
        let response = exchange(addr, request.as_bytes()).await;
        assert_eq!(response.status, status, "case {origin}: {response:?}");
    }
    // Without Origin every policy accepts.
    for server in [&any, &list, &check] {
        let addr = server.local_addr();
        let response = exchange(addr, handshake(addr, "").as_bytes()).await;
        assert_eq!(response.status, 101);
    }
    any.close().await;
    list.close().await;
    check.close().await;
}

#[tokio::test]
async fn bad_handshake_requests_are_refused() {
    let server = echo_on(ws::echo()).await;
    let addr = server.local_addr();
    let with_key = |key: &str| {
        format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
    };
    let without = |skip: &str, version: &str, extra: &str| {
        let mut request = format!("GET / {version}\r\nHost: {addr}\r\n");
        for line in [
            "Upgrade: websocket",
            "Connection: Upgrade",
            &format!("Sec-WebSocket-Key: {KEY}"),
            "Sec-WebSocket-Version: 13",
        ] {
            if !line.starts_with(skip) || skip.is_empty() {
                request.push_str(line);
                request.push_str("\r\n");
            }
        }
        request.push_str(extra);
        request.push_str("\r\n");
        request
    };
    // (case, request, status, Sec-WebSocket-Version in the answer)
    let cases: Vec<(&str, String, u16, Option<&str>)> = vec![
        ("valid", with_key(KEY), 101, None),
        ("key x", with_key("x"), 400, None),
        ("key %%%", with_key("%%%"), 400, None),
        ("4-byte key", with_key("AAAAAA=="), 400, None),
        (
            "17-byte key",
            with_key("AAAAAAAAAAAAAAAAAAAAAAA="),
            400,
            None,
        ),
        (
            "bad last digit",
            with_key("dGhlIHNhbXBsZSBub25jZR=="),
            400,
            None,
        ),
        (
            "no key",
            without("Sec-WebSocket-Key", "HTTP/1.1", ""),
            400,
            None,
        ),
        (
            "two keys",
            without("", "HTTP/1.1", &format!("Sec-WebSocket-Key: {KEY}\r\n")),
            400,
            None,
        ),
        ("HTTP/1.0", without("", "HTTP/1.0", ""), 400, None),
        (
            "a body",
            without("", "HTTP/1.1", "Content-Length: 5\r\n") + "hello",
            400,
            None,
        ),
        (
            "a chunked body",
            without("", "HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n",
            400,
            None,
        ),
        (
            "no version",
            without("Sec-WebSocket-Version", "HTTP/1.1", ""),
            400,
            None,
        ),
        (
            "version 8",
            without(
                "Sec-WebSocket-Version",
                "HTTP/1.1",
                "Sec-WebSocket-Version: 8\r\n",
            ),
            426,
            Some("13"),
        ),
    ];
    for (case, request, status, version) in cases {
        let response = exchange(addr, request.as_bytes()).await;
        assert_eq!(response.status, status, "case {case}: {response:?}");
        assert_eq!(
            response.header("sec-websocket-version"),
            version,
            "case {case}"
        );
    }
    server.close().await;
}

/// A server that answers one handshake with a valid `101` plus `extra` header lines,
/// then sends a TEXT frame "hi" and waits for the connection to end.
async fn fake_server(extra: &'static str) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let mut conn = BufReader::new(tcp);
        let mut key = String::new();
        for _ in 0..100 {
            let mut line = String::new();
            if conn.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("sec-websocket-key") {
                    key = value.trim().to_owned();
                }
            }
        }
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
        );
        let tcp = conn.get_mut();
        let _ = tcp.write_all(answer.as_bytes()).await;
        let _ = tcp.write_all(&[0x81, 0x02, b'h', b'i']).await;
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read_to_end(&mut conn, &mut rest),
        )
        .await;
    });
    (addr, task)
}

#[tokio::test]
async fn the_client_refuses_what_it_did_not_offer() {
    // (101's extra headers, subprotocols offered, accepted)
    let cases: &[(&'static str, &[&str], bool)] = &[
        ("", &[], true),
        ("Sec-WebSocket-Extensions: x-unknown\r\n", &[], false),
        (
            "Sec-WebSocket-Extensions: x-unknown; level=3\r\n",
            &["chat"],
            false,
        ),
        ("Sec-WebSocket-Protocol: chat\r\n", &[], false),
        ("Sec-WebSocket-Protocol: other\r\n", &["chat"], false),
        ("Sec-WebSocket-Protocol: chat\r\n", &["chat"], true),
        (
            "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n",
            &["chat"],
            false,
        ),
    ];
    for &(extra, offered, accepted) in cases {
        let (addr, task) = fake_server(extra).await;
        let opened = within(
            "open",
            ws::connect(format!("ws://{addr}/")).protocols(offered.iter().copied()),
        )
        .await;
        match opened {
            Ok(mut ws) => {
                assert!(accepted, "case {extra:?} {offered:?}: accepted");
                let got = within("receive", ws.receive()).await.unwrap();
                assert_eq!(got.as_text(), Some("hi"));
            }
            Err(err) => {
                assert!(!accepted, "case {extra:?} {offered:?}: {err}");
                assert!(err.is_request(), "case {extra:?}: {err:?}");
                assert!(
                    err.to_string().contains("handshake failed"),
                    "case {extra:?}: {err}"
                );
            }
        }
        task.abort();
    }
}

#[tokio::test]
async fn the_client_follows_handshake_redirects() {
    let target = ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        let path = ws.request().uri().path().to_owned();
        ws.send(path).await
    })
    .await
    .unwrap();
    let target_addr = target.server_addr();
    let redirector = httpstack::serve(
        "127.0.0.1:0",
        handler_fn(move |req: http::Request<httpstack::Body>| {
            let target_addr = target_addr.clone();
            async move {
                let (status, location) = match req.uri().path() {
                    "/moved" => (301, "/temporary".to_owned()),
                    "/temporary" => (307, format!("http://{target_addr}/landed")),
                    "/secure" => (308, format!("ws://{target_addr}/via-ws")),
                    "/see-other" => (303, format!("//{target_addr}/other")),
                    "/loop" => (302, "/loop".to_owned()),
                    "/nowhere" => (302, "ftp://example.com/".to_owned()),
                    _ => (404, String::new()),
                };
                http::Response::builder()
                    .status(status)
                    .header("location", location)
                    .body(String::new())
                    .unwrap()
            }
        }),
    )
    .await
    .unwrap();
    let base = format!("ws://{}", redirector.local_addr());
    // (path, where the socket lands)
    let cases = [
        ("/moved", "/landed"),
        ("/temporary", "/landed"),
        ("/secure", "/via-ws"),
        ("/see-other", "/other"),
    ];
    for (path, landed) in cases {
        let mut ws = within("open", ws::open(format!("{base}{path}")))
            .await
            .unwrap_or_else(|e| panic!("case {path}: {e}"));
        assert_eq!(ws.request().uri().path(), landed, "case {path}");
        assert_eq!(ws.request().uri().scheme_str(), Some("ws"), "case {path}");
        let said = within("receive", ws.receive()).await.unwrap();
        assert_eq!(said.as_text(), Some(landed), "case {path}");
    }
    // Two redirects do not fit in a limit of one; a loop exhausts the default three.
    let err = within(
        "open",
        ws::connect(format!("{base}/moved")).redirect_limit(1),
    )
    .await
    .unwrap_err();
    assert!(err.is_too_many_redirects(), "{err}");
    let err = within("open", ws::open(format!("{base}/loop")))
        .await
        .unwrap_err();
    assert!(err.is_too_many_redirects(), "{err}");
    // Not followed: the redirect is a status error, as is one to a scheme we cannot use.
    let err = within("open", ws::connect(format!("{base}/moved")).redirect(false))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(301), "{err}");
    let err = within("open", ws::open(format!("{base}/nowhere")))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302), "{err}");
    redirector.close().await;
    target.force_close();
}

#[tokio::test]
async fn close_codes_that_may_not_be_sent_are_input_errors() {
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = ws::listen("127.0.0.1:0", move |mut ws: WebSocket| {
        let seen_tx = seen_tx.clone();
        async move {
            loop {
                match ws.receive().await {
                    Ok(message) => ws.send(message).await?,
                    Err(err) => {
                        let _ = seen_tx.send(err.close_frame().cloned());
                        return Ok(());
                    }
                }
            }
        }
    })
    .await
    .unwrap();
    let mut ws = ws::open(format!("ws://{}/", server.server_addr()))
        .await
        .unwrap();
    let long = "x".repeat(124);
    let cases: &[(u16, &str)] = &[
        (0, ""),
        (999, ""),
        (1004, ""),
        (1005, ""),
        (1006, ""),
        (1015, ""),
        (1016, ""),
        (2999, ""),
        (5000, ""),
        (1000, &long),
    ];
    for &(code, reason) in cases {
        let err = within("close", ws.close(code, reason)).await.unwrap_err();
        assert!(err.is_invalid_input(), "case {code}: {err:?}");
        assert!(ws.is_open(), "case {code}");
        // Nothing went out: the connection still echoes.
        ws.send(format!("still open after {code}")).await.unwrap();
        let echoed = within("echo", ws.receive()).await.unwrap();
        assert_eq!(
            echoed.as_text(),
            Some(format!("still open after {code}").as_str())
        );
    }
    // A split sender checks the same way.
    let (mut sender, mut receiver) = ws::open(format!("ws://{}/", server.server_addr()))
        .await
        .unwrap()
        .split();
    assert!(sender.close(1006, "").await.unwrap_err().is_invalid_input());
    sender.send("split").await.unwrap();
    let echoed = within("echo", receiver.next()).await.unwrap().unwrap();
    assert_eq!(echoed.as_text(), Some("split"));
    // 123 bytes and a sendable code pass.
    let reason = "y".repeat(123);
    within("close", ws.close(3000, &reason)).await.unwrap();
    let seen = within("server saw", seen_rx.recv()).await.unwrap();
    assert_eq!(seen.map(|f| (f.code, f.reason.len())), Some((3000, 123)));
    server.force_close();
}

#[tokio::test]
async fn is_ready_tells_a_buffered_message() {
    let server = ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        let message = ws.receive().await?;
        ws.ping(&b"first a ping"[..]).await?;
        ws.send(message.clone()).await?;
        ws.send(message).await?;
        ws.close(1000, "done").await
    })
    .await
    .unwrap();
    let mut ws = ws::open(format!("ws://{}/", server.server_addr()))
        .await
        .unwrap();
    assert!(!ws.is_ready(), "nothing sent yet");
    ws.send("twice").await.unwrap();
    let mut polls = 0;
    while !ws.is_ready() {
        polls += 1;
        assert!(polls < 1000, "no message within 1000 polls");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Asking again changes nothing; the message is the one receive returns.
    assert!(ws.is_ready());
    assert_eq!(ws.receive().await.unwrap().as_text(), Some("twice"));
    // The second copy came in the same burst, or comes shortly.
    let mut polls = 0;
    while !ws.is_ready() {
        polls += 1;
        assert!(polls < 1000, "no second message within 1000 polls");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(ws.receive().await.unwrap().as_text(), Some("twice"));
    // Then the close: never "ready" as a message, and receive gives it.
    let mut polls = 0;
    while ws.is_open() {
        assert!(!ws.is_ready());
        polls += 1;
        assert!(polls < 1000, "no close within 1000 polls");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let err = within("close", ws.receive()).await.unwrap_err();
    assert!(err.is_ok(), "{err}");
    server.force_close();
}
