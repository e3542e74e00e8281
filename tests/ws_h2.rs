//! WebSockets over HTTP/2 (RFC 8441 extended CONNECT): httpstack's client against
//! httpstack's server, over h2c (prior knowledge) and over TLS with ALPN h2.

mod support;

use http::Version;
use httpstack::server::{server_config_from_pem_bytes, Server};
use httpstack::ws::{self, Message, WebSocket};
use httpstack::Certificate;
use support::within;

#[tokio::test]
async fn h2c_echo_and_close() {
    let server = Server::bind("127.0.0.1:0").serve(ws::echo()).await.unwrap();
    let url = format!("ws://{}/h2c", server.local_addr());
    let mut ws = within("open over h2c", ws::connect(&url).http2(true).open())
        .await
        .unwrap();
    assert_eq!(ws.response().version(), Version::HTTP_2);
    assert_eq!(ws.response().status(), 200);
    let cases: Vec<Message> = vec![
        Message::from("over HTTP/2"),
        Message::from(vec![1u8, 2, 3]),
        Message::from(vec![7u8; 1 << 20]),
    ];
    for message in cases {
        ws.send(message.clone()).await.unwrap();
        let echoed = within("echo", ws.receive()).await.unwrap();
        assert_eq!(echoed, message, "case {} bytes", message.len());
    }
    ws.send_fragments(["a", "b"]).await.unwrap();
    assert_eq!(
        within("fragments", ws.receive()).await.unwrap().as_text(),
        Some("ab")
    );
    within("close", ws.close(1000, "bye")).await.unwrap();
    server.close().await;
}

#[tokio::test]
async fn h2_over_tls_by_alpn() {
    let cert = support::test_cert();
    let tls =
        server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    let handler = ws::upgrade(|mut ws: WebSocket| async move {
        let version = format!("{:?}", ws.request().version());
        ws.send(version).await?;
        let message = ws.receive().await?;
        ws.send(message).await
    })
    .protocols(["chat"]);
    let server = Server::bind("127.0.0.1:0")
        .tls(tls)
        .serve(handler)
        .await
        .unwrap();
    let url = format!("wss://localhost:{}/tls", server.port());
    let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    // (http2 asked for, the version the server saw)
    for (http2, expected) in [(true, "HTTP/2.0"), (false, "HTTP/1.1")] {
        let mut ws = within(
            "open wss",
            ws::connect(&url)
                .http2(http2)
                .platform_roots(false)
                .add_root_certificate(ca.clone())
                .protocols(["chat"])
                .open(),
        )
        .await
        .unwrap();
        assert_eq!(ws.subprotocol(), Some("chat"), "case {http2}");
        let seen = within("version", ws.receive()).await.unwrap();
        assert_eq!(seen.as_text(), Some(expected), "case {http2}");
        ws.send("ping over tls").await.unwrap();
        assert_eq!(
            within("echo", ws.receive()).await.unwrap().as_text(),
            Some("ping over tls"),
            "case {http2}"
        );
        // The handler is done: a normal close.
        let err = within("close", ws.receive()).await.unwrap_err();
        assert!(err.is_ok(), "case {http2}: {err}");
    }
    server.close().await;
}

#[tokio::test]
async fn h2_refusals_are_status_errors() {
    let server = Server::bind("127.0.0.1:0")
        .serve(ws::echo().allowed_origins(["https://good.example"]))
        .await
        .unwrap();
    let url = format!("ws://{}/", server.local_addr());
    let err = within(
        "refused",
        ws::connect(&url)
            .http2(true)
            .header("origin", "https://evil.example")
            .open(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403), "{err}");
    assert_eq!(
        err.response().map(|r| r.body().as_ref()),
        Some(&b"origin not allowed"[..])
    );
    server.close().await;
}

#[tokio::test]
async fn many_h2_websockets_at_once() {
    let server = Server::bind("127.0.0.1:0").serve(ws::echo()).await.unwrap();
    let url = format!("ws://{}/", server.local_addr());
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut ws = ws::connect(&url).http2(true).open().await?;
            for j in 0..20 {
                let text = format!("{i}-{j}");
                ws.send(text.as_str()).await?;
                assert_eq!(ws.receive().await?.as_text(), Some(text.as_str()));
            }
            ws.close(1000, "").await
        }));
    }
    for task in tasks {
        within("task", task).await.unwrap().unwrap();
    }
    server.close().await;
}

/// An HTTP/2 WebSocket is the CONNECT stream itself, not a request body: the server's
/// body bounds (which bound HTTP/2 request bodies) leave it alone.
#[tokio::test]
async fn h2_websockets_pass_the_server_body_bounds() {
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(16)
        .read_timeout(std::time::Duration::from_secs(30))
        .serve(ws::echo())
        .await
        .unwrap();
    let url = format!("ws://{}/bounded", server.local_addr());
    let mut ws = within("open over h2c", ws::connect(&url).http2(true).open())
        .await
        .unwrap();
    assert_eq!(ws.response().version(), Version::HTTP_2);
    let message = Message::from(vec![9u8; 1 << 20]);
    ws.send(message.clone()).await.unwrap();
    assert_eq!(within("echo", ws.receive()).await.unwrap(), message);
    within("close", ws.close(1000, "bye")).await.unwrap();
    server.close().await;
}
