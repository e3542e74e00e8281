//! permessage-deflate (RFC 7692) between httpstack's client and server, and against raw
//! frames on the wire: on by default, the negotiated parameters (context takeover,
//! window bits, several offers, declining), the off switch on each side, RSV1 on the
//! wire, fragmented compressed messages, HTTP/2 (RFC 8441), and the protocol errors a
//! compressed stream can carry.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use httpstack::ws::{self, DeflateConfig, Message, WebSocket};
use support::within;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Messages that exercise the compressor: empty, small, repetitive, incompressible,
/// larger than the window, text with multi-byte characters.
fn messages() -> Vec<Message> {
    let noise: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        Message::from("hello"),
        Message::from(""),
        Message::from("hello"),
        Message::from("é∑😀 ".repeat(3000)),
        Message::from(vec![0u8; 100_000]),
        Message::from(noise),
        Message::from(Bytes::new()),
        Message::from(r#"{"id":1,"name":"widget","tags":["a","b"]}"#.repeat(200)),
    ]
}

async fn echo(service: ws::Upgrade<ws::EchoHandler>) -> ws::WsServer {
    service.listen("127.0.0.1:0").await.unwrap()
}

/// Every message of [`messages`] echoed, whole and in fragments.
async fn round_trips(ws: &mut WebSocket, case: &str) {
    for message in messages() {
        within("send", ws.send(message.clone())).await.unwrap();
        let echoed = within("receive", ws.receive())
            .await
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert_eq!(echoed, message, "case {case}: {} bytes", message.len());
    }
    let pieces = ["frag", "", "mented ", &"x".repeat(40_000)];
    within("fragments", ws.send_fragments(pieces))
        .await
        .unwrap();
    let echoed = within("receive", ws.receive()).await.unwrap();
    assert_eq!(
        echoed.as_text(),
        Some(pieces.concat().as_str()),
        "case {case}"
    );
}

#[tokio::test]
async fn on_by_default_on_both_sides() {
    let server = ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        // The server sees the client's offer and the agreed extension.
        let offer = ws
            .request()
            .headers()
            .get("sec-websocket-extensions")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        ws.send(format!("{offer:?} {:?}", ws.extensions())).await?;
        while let Some(message) = ws.next().await {
            ws.send(message?).await?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let mut ws = within("open", ws::open(format!("ws://{}/", server.server_addr())))
        .await
        .unwrap();
    assert_eq!(ws.extensions(), Some("permessage-deflate"));
    let seen = within("receive", ws.receive()).await.unwrap();
    assert_eq!(
        seen.as_text(),
        Some(
            r#"Some("permessage-deflate; client_max_window_bits, permessage-deflate; client_no_context_takeover; client_max_window_bits") Some("permessage-deflate")"#
        )
    );
    round_trips(&mut ws, "defaults").await;
    within("close", ws.close(1000, "")).await.unwrap();
    server.force_close();
}

#[tokio::test]
async fn parameters_are_negotiated_as_configured() {
    type Case = (
        &'static str,
        Option<DeflateConfig>,
        Option<DeflateConfig>,
        Option<&'static str>,
    );
    let d = DeflateConfig::default;
    // (case, client's config (None: off), server's config (None: off), agreed extension)
    let cases: Vec<Case> = vec![
        ("client off", None, Some(d()), None),
        ("server off", Some(d()), None, None),
        (
            "client no context",
            Some(d().client_no_context_takeover(true)),
            Some(d()),
            Some("permessage-deflate; client_no_context_takeover"),
        ),
        (
            "client asks server no context",
            Some(d().server_no_context_takeover(true)),
            Some(d()),
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        (
            "server wants no context both ways",
            Some(d()),
            Some(
                d().server_no_context_takeover(true)
                    .client_no_context_takeover(true),
            ),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        (
            "client asks a small server window",
            Some(d().server_max_window_bits(9)),
            Some(d()),
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        (
            "server caps its window below the ask",
            Some(d().server_max_window_bits(12)),
            Some(d().server_max_window_bits(10)),
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            "server caps the client's window",
            Some(d()),
            Some(d().client_max_window_bits(9)),
            Some("permessage-deflate; client_max_window_bits=9"),
        ),
        (
            "client offers a capped window",
            Some(d().client_max_window_bits(11)),
            Some(d()),
            Some("permessage-deflate; client_max_window_bits=11"),
        ),
        (
            "server caps the client's window to 8 (stored blocks)",
            Some(d()),
            Some(d().client_max_window_bits(8)),
            Some("permessage-deflate; client_max_window_bits=8"),
        ),
        (
            "server window 8 cannot be served: declined",
            Some(d().server_max_window_bits(8)),
            Some(d()),
            None,
        ),
        (
            "levels",
            Some(d().level(9)),
            Some(d().level(0)),
            Some("permessage-deflate"),
        ),
    ];
    for (case, client, server_config, agreed) in cases {
        let service = match server_config {
            Some(config) => ws::echo().deflate(config),
            None => ws::echo().permessage_deflate(false),
        };
        let server = echo(service).await;
        let connect = ws::connect(format!("ws://{}/", server.server_addr()));
        let connect = match client {
            Some(config) => connect.deflate(config),
            None => connect.permessage_deflate(false),
        };
        let mut ws = within("open", connect)
            .await
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert_eq!(ws.extensions(), agreed, "case {case}");
        round_trips(&mut ws, case).await;
        within("close", ws.close(1000, "")).await.unwrap();
        server.force_close();
    }
}

/// A raw client: sends a handshake with `extensions` (a header line or nothing) and
/// returns the connection after the answer's head, and the head.
async fn raw_handshake(addr: SocketAddr, extensions: &str) -> (BufReader<TcpStream>, String) {
    let tcp = within("connect", TcpStream::connect(addr)).await.unwrap();
    let mut conn = BufReader::new(tcp);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         {extensions}\r\n"
    );
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let mut head = String::new();
    for _ in 0..50 {
        let n = within("head", conn.read_line(&mut head)).await.unwrap();
        assert!(n > 0, "closed in the head: {head:?}");
        if head.ends_with("\r\n\r\n") {
            break;
        }
    }
    (conn, head)
}

/// A masked frame (with a zero mask, so the payload goes as is).
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![first];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload);
    frame
}

/// Reads one unmasked frame: (first byte, payload).
async fn read_frame(conn: &mut BufReader<TcpStream>) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    within("frame", conn.read_exact(&mut head)).await.unwrap();
    let len = match head[1] & 0x7f {
        126 => {
            let mut n = [0u8; 2];
            conn.read_exact(&mut n).await.unwrap();
            u16::from_be_bytes(n) as usize
        }
        127 => {
            let mut n = [0u8; 8];
            conn.read_exact(&mut n).await.unwrap();
            u64::from_be_bytes(n) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    within("payload", conn.read_exact(&mut payload))
        .await
        .unwrap();
    (head[0], payload)
}

/// Raw DEFLATE of `data` as one message (sync flush, tail dropped), from a fresh
/// compressor (these raw clients offer `client_no_context_takeover`, or send one
/// message).
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    compress
        .compress_vec(data, &mut out, flate2::FlushCompress::Sync)
        .unwrap();
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

fn inflate(decompress: &mut flate2::Decompress, data: &[u8]) -> Vec<u8> {
    let mut input = data.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(1 << 20);
    decompress
        .decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    out
}

#[tokio::test]
async fn compressed_frames_on_the_wire() {
    let server = echo(ws::echo()).await;
    let (mut conn, head) = raw_handshake(
        server.local_addr(),
        "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains(
            "sec-websocket-extensions: permessage-deflate; client_no_context_takeover\r\n"
        ),
        "{head}"
    );
    let mut decompress = flate2::Decompress::new(false);
    let text = "compress me ".repeat(100);
    // (case, frames to send, the text the echo must carry)
    let cases: Vec<(&str, Vec<Vec<u8>>, String)> = vec![
        (
            "one compressed frame",
            vec![client_frame(0xc1, &deflate(text.as_bytes()))],
            text.clone(),
        ),
        (
            "an uncompressed frame on a deflate connection",
            vec![client_frame(0x81, b"plain")],
            "plain".into(),
        ),
        (
            "an empty compressed message",
            vec![client_frame(0xc1, &[])],
            String::new(),
        ),
        (
            "fragments, a ping between them",
            {
                let whole = deflate(text.as_bytes());
                let (a, b) = whole.split_at(whole.len() / 2);
                vec![
                    client_frame(0x41, a),
                    client_frame(0x89, b"ping"),
                    client_frame(0x80, b),
                ]
            },
            text.clone(),
        ),
    ];
    for (case, frames, expected) in cases {
        for frame in frames {
            conn.get_mut().write_all(&frame).await.unwrap();
        }
        let (mut first, mut payload) = read_frame(&mut conn).await;
        if first == 0x8a {
            assert_eq!(payload, b"ping", "case {case}");
            (first, payload) = read_frame(&mut conn).await;
        }
        // The echo is one compressed TEXT frame: FIN, RSV1, opcode 1.
        assert_eq!(first, 0xc1, "case {case}");
        assert!(payload.len() <= expected.len().max(1) + 8, "case {case}");
        let echoed = inflate(&mut decompress, &payload);
        assert_eq!(String::from_utf8(echoed).unwrap(), expected, "case {case}");
    }
    server.force_close();
}

#[tokio::test]
async fn compressed_protocol_errors_close_the_connection() {
    let text = b"some text some text some text";
    let good = deflate(text);
    let bad_utf8 = deflate(b"\xff\xfe not utf-8");
    // (case, offer, frames, close code the server sends)
    let cases: Vec<(&str, &str, Vec<Vec<u8>>, u16)> = vec![
        (
            "RSV1 without the extension",
            "",
            vec![client_frame(0xc1, &good)],
            1002,
        ),
        (
            "RSV1 on a continuation",
            "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n",
            vec![client_frame(0x41, &good), client_frame(0xc0, &good)],
            1002,
        ),
        (
            "RSV1 on a ping",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            vec![client_frame(0xc9, b"")],
            1002,
        ),
        (
            "RSV2",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            vec![client_frame(0xa1, &good)],
            1002,
        ),
        (
            "not DEFLATE",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            vec![client_frame(0xc2, b"\xff\xff\xff\xff not deflate")],
            1007,
        ),
        (
            "invalid UTF-8 inside",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            vec![client_frame(0xc1, &bad_utf8)],
            1007,
        ),
    ];
    let server = echo(ws::echo()).await;
    for (case, offer, frames, code) in cases {
        let (mut conn, head) = raw_handshake(server.local_addr(), offer).await;
        assert!(head.starts_with("HTTP/1.1 101"), "case {case}: {head}");
        for frame in frames {
            conn.get_mut().write_all(&frame).await.unwrap();
        }
        let (first, payload) = read_frame(&mut conn).await;
        assert_eq!(first, 0x88, "case {case}: a close frame");
        assert_eq!(
            u16::from_be_bytes([payload[0], payload[1]]),
            code,
            "case {case}"
        );
    }
    server.force_close();
}

#[tokio::test]
async fn over_http2_too() {
    let server = ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        let version = format!("{:?} {:?}", ws.request().version(), ws.extensions());
        ws.send(version).await?;
        while let Some(message) = ws.next().await {
            ws.send(message?).await?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let mut ws = within(
        "open",
        ws::connect(format!("ws://{}/", server.server_addr())).http2(true),
    )
    .await
    .unwrap();
    assert_eq!(ws.response().version(), http::Version::HTTP_2);
    assert_eq!(ws.extensions(), Some("permessage-deflate"));
    let said = within("receive", ws.receive()).await.unwrap();
    assert_eq!(
        said.as_text(),
        Some(r#"HTTP/2.0 Some("permessage-deflate")"#)
    );
    round_trips(&mut ws, "h2").await;
    // And off on HTTP/2.
    let mut ws = within(
        "open",
        ws::connect(format!("ws://{}/", server.server_addr()))
            .http2(true)
            .permessage_deflate(false),
    )
    .await
    .unwrap();
    assert_eq!(ws.extensions(), None);
    let said = within("receive", ws.receive()).await.unwrap();
    assert_eq!(said.as_text(), Some("HTTP/2.0 None"));
    server.force_close();
}

#[tokio::test]
async fn the_client_refuses_a_deflate_answer_it_cannot_accept() {
    use tokio::net::TcpListener;
    // (answer's extension header, offered config (None: off))
    let cases: Vec<(&'static str, Option<DeflateConfig>)> = vec![
        ("permessage-deflate", None),
        (
            "permessage-deflate; server_max_window_bits=12",
            Some(DeflateConfig::default().server_max_window_bits(10)),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            Some(DeflateConfig::default()),
        ),
        ("permessage-deflate; x=1", Some(DeflateConfig::default())),
        (
            "permessage-deflate, permessage-deflate",
            Some(DeflateConfig::default()),
        ),
    ];
    for (answer, offered) in cases {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
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
            let accept =
                tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
            let head = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\
                 Sec-WebSocket-Extensions: {answer}\r\n\r\n"
            );
            let _ = conn.get_mut().write_all(head.as_bytes()).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let connect = ws::connect(format!("ws://{addr}/"));
        let connect = match offered {
            Some(config) => connect.deflate(config),
            None => connect.permessage_deflate(false),
        };
        let err = within("open", connect).await.unwrap_err();
        assert!(err.is_request(), "case {answer}: {err}");
        assert!(
            err.to_string().contains("handshake failed"),
            "case {answer}: {err}"
        );
        task.abort();
    }
}
