//! WebSockets: httpstack's client against httpstack's server over real sockets on
//! 127.0.0.1 — messages, fragments, control frames, close codes, size limits, split
//! halves, the origin check, refused handshakes, wss://, timeouts, and axum mounting.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use httpstack::server::{handler_fn, server_config_from_pem_bytes, Server};
use httpstack::ws::{self, Message, WebSocket};
use httpstack::{Certificate, Error, TimeoutKind};
use support::within;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite;

/// An echo server (HTTP.jl's `for msg in ws; send(ws, msg); end`).
async fn echo_server() -> ws::WsServer {
    ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        while let Some(message) = ws.next().await {
            ws.send(message?).await?;
        }
        Ok(())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn text_and_binary_round_trip() {
    let server = echo_server().await;
    let url = format!("ws://{}/echo", server.server_addr());
    let mut ws = within("open", ws::open(&url)).await.unwrap();
    let cases: Vec<Message> = vec![
        Message::from("hello"),
        Message::from(""),
        Message::from("é∑😀".repeat(1000)),
        Message::from(vec![0u8, 1, 2, 255]),
        Message::from(Bytes::from(vec![7u8; 200_000])),
    ];
    for message in cases {
        within("send", ws.send(message.clone())).await.unwrap();
        let echoed = within("receive", ws.receive()).await.unwrap();
        assert_eq!(echoed, message, "case {} bytes", message.len());
    }
    within("close", ws.close(1000, "done")).await.unwrap();
    assert!(!ws.is_open());
    server.force_close();
}

#[tokio::test]
async fn fragments_arrive_as_one_message() {
    let server = echo_server().await;
    let mut ws = ws::open(format!("ws://{}/", server.server_addr()))
        .await
        .unwrap();
    let cases: Vec<(Vec<Message>, Message)> = vec![
        (
            vec!["one ".into(), "two ".into(), "three".into()],
            Message::from("one two three"),
        ),
        (
            vec![Message::from(vec![1u8]), Message::from(vec![2u8, 3])],
            Message::from(vec![1u8, 2, 3]),
        ),
        (vec!["single".into()], Message::from("single")),
    ];
    for (pieces, expected) in cases {
        within("send_fragments", ws.send_fragments(pieces.clone()))
            .await
            .unwrap();
        let got = within("receive", ws.receive()).await.unwrap();
        assert_eq!(got, expected, "case {pieces:?}");
    }
    server.force_close();
}

#[tokio::test]
async fn fragments_are_separate_frames_on_the_wire() {
    // A server whose frames may carry 2 bytes: the pieces pass only as separate frames
    // (uncompressed: compressed, two bytes take more).
    let service = ws::upgrade(|mut ws: WebSocket| async move {
        let message = ws.receive().await?;
        ws.send(message).await
    })
    .max_frame_size(Some(2))
    .permessage_deflate(false);
    let server = Server::bind("127.0.0.1:0").serve(service).await.unwrap();
    let url = format!("ws://{}/", server.local_addr());
    let mut ws = ws::open(&url).await.unwrap();
    ws.send_fragments(["ab", "cd", "e"]).await.unwrap();
    let got = within("receive", ws.receive()).await.unwrap();
    assert_eq!(got.as_text(), Some("abcde"));

    let mut ws = ws::open(&url).await.unwrap();
    ws.send("abcde").await.unwrap();
    let err = within("receive", ws.receive()).await.unwrap_err();
    assert_eq!(err.close_frame().map(|f| f.code), Some(1009), "{err}");
    server.close().await;
}

#[tokio::test]
async fn pings_are_answered_and_pongs_skipped() {
    let server = echo_server().await;
    let url = format!("ws://{}/", server.server_addr());
    // A raw tungstenite client sees our server's pong to its ping.
    let tcp = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let (mut raw, _) = within("raw connect", tokio_tungstenite::client_async(&url, tcp))
        .await
        .unwrap();
    raw.send(tungstenite::Message::Ping(Bytes::from_static(b"p1")))
        .await
        .unwrap();
    let pong = within("pong", raw.next()).await.unwrap().unwrap();
    assert_eq!(pong, tungstenite::Message::Pong(Bytes::from_static(b"p1")));

    // Our client: pings and unsolicited pongs do not disturb the messages.
    let mut ws = ws::open(&url).await.unwrap();
    ws.ping(Bytes::from_static(b"are you there")).await.unwrap();
    ws.pong(Bytes::from_static(b"heartbeat")).await.unwrap();
    ws.send("after ping").await.unwrap();
    let got = within("receive", ws.receive()).await.unwrap();
    assert_eq!(got.as_text(), Some("after ping"));
    server.force_close();
}

#[tokio::test]
async fn close_codes_reach_the_client() {
    // (code the server closes with, reason, is_ok on the client)
    let cases: &[(u16, &str, bool)] = &[
        (1000, "bye", true),
        (1001, "going away", true),
        (4000, "custom", false),
        (1011, "oops", false),
    ];
    for &(code, reason, ok) in cases {
        let server = ws::listen("127.0.0.1:0", move |mut ws: WebSocket| async move {
            ws.close(code, reason).await
        })
        .await
        .unwrap();
        let mut ws = ws::open(format!("ws://{}/", server.server_addr()))
            .await
            .unwrap();
        let err = within("receive close", ws.receive()).await.unwrap_err();
        let frame = err.close_frame().cloned();
        assert_eq!(
            frame.as_ref().map(|f| (f.code, f.reason.as_str())),
            Some((code, reason)),
            "case {code}: {err}"
        );
        assert_eq!(err.is_ok(), ok, "case {code}");
        // Every later receive says the same.
        let again = ws.receive().await.unwrap_err();
        assert_eq!(again.close_frame(), frame.as_ref(), "case {code}");
        server.force_close();
    }
}

#[tokio::test]
async fn stream_ends_on_normal_close_and_yields_other_closes() {
    let server = ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        let kind = ws.receive().await?;
        ws.send("one").await?;
        ws.send("two").await?;
        match kind.as_text() {
            Some("normal") => ws.close(1000, "").await,
            _ => ws.close(4001, "abnormal").await,
        }
    })
    .await
    .unwrap();
    let url = format!("ws://{}/", server.server_addr());

    let mut ws = ws::open(&url).await.unwrap();
    ws.send("normal").await.unwrap();
    let got: Vec<_> = within("collect", ws.by_ref().collect::<Vec<_>>()).await;
    let texts: Vec<_> = got
        .iter()
        .map(|m| m.as_ref().unwrap().as_text().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["one", "two"]);

    let mut ws = ws::open(&url).await.unwrap();
    ws.send("abnormal").await.unwrap();
    let got: Vec<_> = within("collect", ws.by_ref().collect::<Vec<_>>()).await;
    assert_eq!(got.len(), 3, "{got:?}");
    let err = got[2].as_ref().unwrap_err();
    assert_eq!(err.close_frame().map(|f| f.code), Some(4001));
    assert!(ws.next().await.is_none());
    server.force_close();
}

#[tokio::test]
async fn handler_result_decides_the_close_code() {
    let cases: &[(bool, u16)] = &[(true, 1000), (false, 1011)];
    for &(succeed, code) in cases {
        let server = ws::listen("127.0.0.1:0", move |mut ws: WebSocket| async move {
            ws.send("hi").await?;
            if succeed {
                Ok(())
            } else {
                Err(Error::invalid_input("handler failed"))
            }
        })
        .await
        .unwrap();
        let mut ws = ws::open(format!("ws://{}/", server.server_addr()))
            .await
            .unwrap();
        assert_eq!(ws.receive().await.unwrap().as_text(), Some("hi"));
        let err = within("close", ws.receive()).await.unwrap_err();
        assert_eq!(
            err.close_frame().map(|f| f.code),
            Some(code),
            "case {succeed}: {err}"
        );
        server.force_close();
    }
}

#[tokio::test]
async fn open_with_closes_after_the_handler() {
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let server = ws::listen("127.0.0.1:0", move |mut ws: WebSocket| {
        let seen_tx = seen_tx.clone();
        async move {
            let err = ws.receive().await.unwrap_err();
            seen_tx.send(err.close_frame().cloned()).unwrap();
            Ok(())
        }
    })
    .await
    .unwrap();
    let url = format!("ws://{}/", server.server_addr());
    let cases: &[(bool, u16)] = &[(true, 1000), (false, 1008)];
    for &(succeed, code) in cases {
        let result = ws::open_with(&url, |_ws| async move {
            if succeed {
                Ok(42)
            } else {
                Err(Error::invalid_input("client handler failed"))
            }
        })
        .await;
        assert_eq!(result.is_ok(), succeed);
        let frame = within("server saw close", seen_rx.recv()).await.unwrap();
        assert_eq!(frame.map(|f| f.code), Some(code), "case {succeed}");
    }
    server.force_close();
}

#[tokio::test]
async fn too_big_messages_close_with_1009() {
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let service = ws::upgrade(move |mut ws: WebSocket| {
        let seen_tx = seen_tx.clone();
        async move {
            let result = ws.receive().await;
            seen_tx
                .send(result.map_err(|e| e.close_frame().cloned()))
                .unwrap();
            Ok(())
        }
    })
    .max_message_size(Some(1024))
    .max_frame_size(Some(1024));
    let server = Server::bind("127.0.0.1:0").serve(service).await.unwrap();
    let url = format!("ws://{}/", server.local_addr());
    // (what the client sends, whether the server accepts it)
    let cases: Vec<(Vec<Message>, bool)> = vec![
        (vec![Message::from(vec![1u8; 1024])], true),
        (vec![Message::from(vec![1u8; 1025])], false),
        // Two frames within the frame limit, together over the message limit.
        (
            vec![Message::from(vec![1u8; 600]), Message::from(vec![1u8; 600])],
            false,
        ),
    ];
    for (pieces, accepted) in cases {
        let sizes: Vec<usize> = pieces.iter().map(Message::len).collect();
        let mut ws = ws::open(&url).await.unwrap();
        ws.send_fragments(pieces).await.unwrap();
        let seen = within("server receive", seen_rx.recv()).await.unwrap();
        assert_eq!(seen.is_ok(), accepted, "case {sizes:?}: {seen:?}");
        if !accepted {
            assert_eq!(
                seen.unwrap_err().map(|f| f.code),
                Some(1009),
                "case {sizes:?}"
            );
            let err = within("client sees 1009", ws.receive()).await.unwrap_err();
            assert_eq!(
                err.close_frame().map(|f| f.code),
                Some(1009),
                "case {sizes:?}"
            );
            assert!(!err.is_ok());
        }
    }

    // The client's own limit: a too-big message from the server.
    let big = ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        ws.send(vec![0u8; 4096]).await?;
        ws.receive().await.map(|_| ())
    })
    .await
    .unwrap();
    let mut ws = ws::connect(format!("ws://{}/", big.server_addr()))
        .max_message_size(Some(1000))
        .await
        .unwrap();
    let err = within("client limit", ws.receive()).await.unwrap_err();
    assert_eq!(err.close_frame().map(|f| f.code), Some(1009), "{err}");
    server.close().await;
    big.force_close();
}

#[tokio::test]
async fn split_halves_work_concurrently() {
    let server = echo_server().await;
    let ws = ws::open(format!("ws://{}/", server.server_addr()))
        .await
        .unwrap();
    let (mut sender, mut receiver) = ws.split();
    const N: usize = 200;
    let writer = tokio::spawn(async move {
        for i in 0..N {
            sender.send(format!("m{i}")).await?;
        }
        sender.close(1000, "done").await?;
        Ok::<_, Error>(())
    });
    let mut got = Vec::new();
    while let Some(message) = within("receive", receiver.next()).await {
        got.push(message.unwrap().as_text().unwrap().to_owned());
    }
    within("writer", writer).await.unwrap().unwrap();
    let expected: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
    assert_eq!(got, expected);
    assert_eq!(receiver.close_frame().map(|f| f.code), Some(1000));
    server.force_close();
}

#[tokio::test]
async fn origin_check_refuses_with_403() {
    let service = ws::echo().allowed_origins(["https://good.example"]);
    let server = Server::bind("127.0.0.1:0").serve(service).await.unwrap();
    let url = format!("ws://{}/", server.local_addr());
    // (Origin header, accepted)
    let cases: &[(Option<&str>, bool)] = &[
        (Some("https://good.example"), true),
        (Some("HTTPS://GOOD.EXAMPLE"), true),
        (Some("https://evil.example"), false),
        (None, true),
    ];
    for &(origin, accepted) in cases {
        let mut connect = ws::connect(&url);
        if let Some(origin) = origin {
            connect = connect.header("Origin", origin);
        }
        match within("open", connect.open()).await {
            Ok(mut ws) => {
                assert!(accepted, "case {origin:?}: accepted");
                ws.send("x").await.unwrap();
                assert_eq!(ws.receive().await.unwrap().as_text(), Some("x"));
            }
            Err(err) => {
                assert!(!accepted, "case {origin:?}: {err}");
                assert_eq!(
                    err.status().map(|s| s.as_u16()),
                    Some(403),
                    "case {origin:?}"
                );
            }
        }
    }
    server.close().await;
}

#[tokio::test]
async fn non_101_answer_is_a_status_error_with_the_response() {
    let server = httpstack::serve(
        "127.0.0.1:0",
        handler_fn(|_req| async {
            http::Response::builder()
                .status(404)
                .header("x-why", "no such socket")
                .body(String::from("not here"))
                .unwrap()
        }),
    )
    .await
    .unwrap();
    let url = format!("ws://{}/missing", server.local_addr());
    let err = within("open", ws::open(&url)).await.unwrap_err();
    assert!(err.is_status(), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    let response = err.response().unwrap();
    assert_eq!(response.headers()["x-why"], "no such socket");
    assert_eq!(response.body().as_ref(), b"not here");
    assert_eq!(err.url(), Some(url.as_str()));

    // A plain GET to an upgrade route: 400; a wrong version: 426.
    let ws_server = Server::bind("127.0.0.1:0").serve(ws::echo()).await.unwrap();
    let resp = httpstack::client::Client::builder()
        .status_exception(false)
        .build()
        .unwrap()
        .get(format!("http://{}/", ws_server.local_addr()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    server.close().await;
    ws_server.close().await;
}

#[tokio::test]
async fn bad_urls_and_unreachable_hosts() {
    type Check = fn(&Error) -> bool;
    let cases: &[(&str, Check)] = &[
        ("http://127.0.0.1:1/", Error::is_invalid_url),
        ("not a url", Error::is_invalid_url),
        ("ws://127.0.0.1:1/", Error::is_connect),
    ];
    for (url, check) in cases {
        let err = within("open", ws::open(url)).await.unwrap_err();
        assert!(check(&err), "case {url}: {err:?}");
    }
}

#[tokio::test]
async fn subprotocols_are_negotiated() {
    let service = ws::upgrade(|mut ws: WebSocket| async move {
        let picked = ws.subprotocol().unwrap_or("none").to_owned();
        ws.send(picked).await
    })
    .protocols(["v2", "v1"]);
    let server = Server::bind("127.0.0.1:0").serve(service).await.unwrap();
    let url = format!("ws://{}/", server.local_addr());
    // (offered, picked); `Err`: the handshake fails (the server picked none of several).
    type Case<'a> = (&'a [&'a str], Result<Option<&'a str>, ()>);
    let cases: &[Case] = &[
        (&["v1", "v2"], Ok(Some("v2"))),
        (&["v1"], Ok(Some("v1"))),
        (&["v3"], Err(())),
        (&[], Ok(None)),
    ];
    for (offered, expected) in cases {
        let opened = ws::connect(&url).protocols(offered.iter().copied()).await;
        match (opened, expected) {
            (Ok(mut ws), Ok(expected)) => {
                assert_eq!(ws.subprotocol(), *expected, "case {offered:?}");
                let said = ws.receive().await.unwrap();
                assert_eq!(
                    said.as_text(),
                    Some(expected.unwrap_or("none")),
                    "case {offered:?}"
                );
            }
            (Err(err), Err(())) => assert!(err.is_request(), "case {offered:?}: {err}"),
            (opened, _) => panic!("case {offered:?}: {opened:?}"),
        }
    }
    server.close().await;
}

#[tokio::test]
async fn wss_with_test_certificates() {
    let cert = support::test_cert();
    let tls =
        server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    let server = Server::bind("127.0.0.1:0")
        .tls(tls)
        .serve(ws::echo())
        .await
        .unwrap();
    let url = format!("wss://localhost:{}/secure", server.port());
    let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    let mut ws = within(
        "open wss",
        ws::connect(&url)
            .platform_roots(false)
            .add_root_certificate(ca)
            .open(),
    )
    .await
    .unwrap();
    ws.send("secret").await.unwrap();
    assert_eq!(ws.receive().await.unwrap().as_text(), Some("secret"));
    ws.close(1000, "").await.unwrap();

    // Without the CA: a connect error.
    let err = within("untrusted", ws::connect(&url).platform_roots(false).open())
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    server.close().await;
}

#[tokio::test]
async fn timeouts() {
    // A server that accepts TCP and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp);
        }
    });
    let url = format!("ws://{silent_addr}/");
    let short = Duration::from_millis(200);
    let err = within(
        "response_header_timeout",
        ws::connect(&url).response_header_timeout(short).open(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read), "{err}");
    let err = within(
        "request_timeout",
        ws::connect(&url).request_timeout(short).open(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Total), "{err}");

    // read_idle_timeout after the upgrade: a server that says nothing.
    let quiet = ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        ws.receive().await.map(|_| ())
    })
    .await
    .unwrap();
    let mut ws = ws::connect(format!("ws://{}/", quiet.server_addr()))
        .read_idle_timeout(short)
        .await
        .unwrap();
    let err = within("read idle", ws.receive()).await.unwrap_err();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read), "{err}");
    // The connection is still usable.
    ws.send("still here").await.unwrap();
    quiet.force_close();
}

#[tokio::test]
async fn force_close_drops_websockets() {
    let server = echo_server().await;
    let mut ws = ws::open(format!("ws://{}/", server.server_addr()))
        .await
        .unwrap();
    ws.send("x").await.unwrap();
    ws.receive().await.unwrap();
    assert_eq!(server.connections(), 1);
    server.force_close();
    let err = within("dropped", ws.receive()).await.unwrap_err();
    assert_eq!(err.close_frame().map(|f| f.code), Some(1006), "{err}");

    // A graceful close says 1001.
    let server = echo_server().await;
    let mut ws = ws::open(format!("ws://{}/", server.server_addr()))
        .await
        .unwrap();
    ws.send("x").await.unwrap();
    ws.receive().await.unwrap();
    let closing = tokio::spawn({
        let server = server.clone();
        async move { server.close().await }
    });
    let err = within("going away", ws.receive()).await.unwrap_err();
    assert_eq!(err.close_frame().map(|f| f.code), Some(1001), "{err}");
    assert!(err.is_ok());
    within("server closed", closing).await.unwrap();
}

#[tokio::test]
async fn upgrade_mounts_in_axum() {
    let app = axum::Router::new()
        .route_service("/ws", ws::echo())
        .route("/", axum::routing::get(|| async { "plain" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut ws = within("open", ws::open(format!("ws://{addr}/ws")))
        .await
        .unwrap();
    ws.send("through axum").await.unwrap();
    assert_eq!(ws.receive().await.unwrap().as_text(), Some("through axum"));
    ws.close(1000, "").await.unwrap();
}

#[tokio::test]
async fn handshake_request_is_visible_to_the_handler() {
    let service = ws::upgrade(|mut ws: WebSocket| async move {
        let req = ws.request();
        let said = format!(
            "{} {}",
            req.uri().path_and_query().map(|p| p.as_str()).unwrap_or(""),
            req.headers()
                .get("x-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        );
        ws.send(said).await
    });
    let server = Server::bind("127.0.0.1:0").serve(service).await.unwrap();
    let mut ws = ws::connect(format!("ws://{}/room/7?user=a", server.local_addr()))
        .header("x-token", "t0k")
        .await
        .unwrap();
    assert_eq!(
        ws.receive().await.unwrap().as_text(),
        Some("/room/7?user=a t0k")
    );
    assert_eq!(ws.response().status(), 101);
    server.close().await;
}
