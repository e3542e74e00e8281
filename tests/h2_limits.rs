//! `httpstack::h2::Session` (server side) against a raw client in memory that writes
//! frames by hand: every limit at its edge, the flood protections (rapid reset, PING,
//! SETTINGS, CONTINUATION and empty-DATA floods) ending the connection with GOAWAY
//! ENHANCE_YOUR_CALM, and input split at every byte boundary.

use bytes::{Bytes, BytesMut};
use httpstack::h2::frame::{
    self, ContinuationFrame, DataFrame, ErrorCode, Frame, HeadersFrame, PingFrame, RstStreamFrame,
    SettingsFrame,
};
use httpstack::h2::hpack::{Encoder, Field};
use httpstack::h2::{Event, Role, Session, SessionBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

mod support;
use support::within;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A client that writes frames by hand and reads what the server answers.
struct Raw {
    io: DuplexStream,
    rbuf: BytesMut,
    encoder: Encoder,
}

impl Raw {
    /// A server session built by `builder`, and a raw client that sent its preface.
    async fn connect(builder: SessionBuilder) -> (Raw, Session) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let server = builder.build(b);
        let mut raw = Raw {
            io: a,
            rbuf: BytesMut::new(),
            encoder: Encoder::new(),
        };
        let mut hello = BytesMut::from(PREFACE);
        frame::encode(&Frame::Settings(SettingsFrame::default()), &mut hello);
        raw.write(&hello).await;
        (raw, server)
    }

    async fn write(&mut self, bytes: &[u8]) {
        within("raw write", self.io.write_all(bytes))
            .await
            .expect("raw write");
    }

    async fn send(&mut self, frames: &[Frame]) {
        let mut buf = BytesMut::new();
        for f in frames {
            frame::encode(f, &mut buf);
        }
        self.write(&buf).await;
    }

    fn block(&mut self, fields: &[Field]) -> Bytes {
        let mut buf = BytesMut::new();
        self.encoder.encode(fields, &mut buf);
        buf.freeze()
    }

    fn request_block(&mut self, extra: &[Field]) -> Bytes {
        let mut fields = vec![
            Field::new(":method", "POST"),
            Field::new(":scheme", "http"),
            Field::new(":authority", "localhost"),
            Field::new(":path", "/"),
        ];
        fields.extend_from_slice(extra);
        self.block(&fields)
    }

    fn headers(&mut self, stream: u32, end_stream: bool) -> Frame {
        let block = self.request_block(&[]);
        Frame::Headers(HeadersFrame::new(stream, block, end_stream, true))
    }

    /// The next frame from the server; `None` at the end of the connection.
    async fn next(&mut self) -> Option<Frame> {
        within("server frame", async {
            loop {
                if let Some(f) = frame::decode(&mut self.rbuf, frame::MAX_MAX_FRAME_SIZE)
                    .expect("server frames are valid")
                {
                    return Some(f);
                }
                if self.io.read_buf(&mut self.rbuf).await.ok()? == 0 {
                    return None;
                }
            }
        })
        .await
    }

    /// Frames until one matches `want` (bounded by count and by time).
    async fn until(&mut self, what: &str, want: impl Fn(&Frame) -> bool) -> Frame {
        for _ in 0..100_000 {
            match self.next().await {
                Some(f) if want(&f) => return f,
                Some(_) => {}
                None => panic!("connection ended before {what}"),
            }
        }
        panic!("no {what} in 100,000 frames")
    }

    async fn goaway(&mut self) -> ErrorCode {
        match self
            .until("GOAWAY", |f| matches!(f, Frame::GoAway(_)))
            .await
        {
            Frame::GoAway(g) => g.code,
            _ => unreachable!(),
        }
    }

    async fn reset(&mut self, stream: u32) -> ErrorCode {
        match self
            .until(
                "RST_STREAM",
                |f| matches!(f, Frame::RstStream(r) if r.stream_id == stream),
            )
            .await
        {
            Frame::RstStream(r) => r.code,
            _ => unreachable!(),
        }
    }
}

fn server() -> SessionBuilder {
    Session::builder(Role::Server)
}

/// The next request-headers event (skipping SETTINGS).
async fn request_event(server: &Session) -> Event {
    loop {
        match within("server event", server.take_evt())
            .await
            .expect("event")
        {
            Event::Settings(_) => continue,
            other => return other,
        }
    }
}

#[tokio::test]
async fn frame_size_at_the_edge() {
    let (mut raw, server) = Raw::connect(server()).await;
    let headers = raw.headers(1, false);
    raw.send(&[
        headers,
        Frame::Data(DataFrame::new(1, vec![7u8; 16_384].into(), true)),
    ])
    .await;
    assert!(matches!(
        request_event(&server).await,
        Event::RecvHeaders { stream: 1, .. }
    ));
    let Event::RecvData { data, .. } = request_event(&server).await else {
        panic!("data")
    };
    assert_eq!(
        data.len(),
        16_384,
        "a frame of exactly SETTINGS_MAX_FRAME_SIZE is accepted"
    );
    // One byte more: FRAME_SIZE_ERROR for the connection (RFC 9113 §4.2).
    let headers = raw.headers(3, false);
    raw.send(&[
        headers,
        Frame::Data(DataFrame::new(3, vec![7u8; 16_385].into(), true)),
    ])
    .await;
    assert_eq!(raw.goaway().await, ErrorCode::FRAME_SIZE_ERROR);
}

#[tokio::test]
async fn header_list_size_at_the_edge() {
    // The request block is 4 pseudo-headers: 10+9 + 7+4 + 7+4 + 5+1 + 4*32 = 175 bytes.
    let (mut raw, server) = Raw::connect(server().max_header_list_size(175 + 40)).await;
    // x-pad: 5 + 3 + 32 = 40 bytes: exactly the limit.
    let block = raw.request_block(&[Field::new("x-pad", "abc")]);
    raw.send(&[Frame::Headers(HeadersFrame::new(1, block, true, true))])
        .await;
    let Event::RecvHeaders {
        stream: 1, headers, ..
    } = request_event(&server).await
    else {
        panic!("request")
    };
    assert_eq!(headers.list_size(), 215);
    // One byte more: answered 431, the connection lives (HPACK state kept).
    let block = raw.request_block(&[Field::new("x-pad", "abcd")]);
    raw.send(&[Frame::Headers(HeadersFrame::new(3, block, true, true))])
        .await;
    let Frame::Headers(h) = raw
        .until(
            "431",
            |f| matches!(f, Frame::Headers(h) if h.stream_id == 3),
        )
        .await
    else {
        unreachable!()
    };
    assert!(h.end_stream);
    let block = raw.request_block(&[]);
    raw.send(&[Frame::Headers(HeadersFrame::new(5, block, true, true))])
        .await;
    assert!(matches!(
        request_event(&server).await,
        Event::RecvHeaders { stream: 5, .. }
    ));
}

#[tokio::test]
async fn max_concurrent_streams_at_the_edge() {
    let (mut raw, server) = Raw::connect(server().max_concurrent_streams(2)).await;
    for stream in [1, 3, 5] {
        let f = raw.headers(stream, false);
        raw.send(&[f]).await;
    }
    assert_eq!(
        raw.reset(5).await,
        ErrorCode::REFUSED_STREAM,
        "the third stream is refused"
    );
    assert!(matches!(
        request_event(&server).await,
        Event::RecvHeaders { stream: 1, .. }
    ));
    assert!(matches!(
        request_event(&server).await,
        Event::RecvHeaders { stream: 3, .. }
    ));
}

#[tokio::test]
async fn rapid_reset_ends_with_enhance_your_calm() {
    let (mut raw, _server) = Raw::connect(server().max_remote_resets(50)).await;
    let mut frames = Vec::new();
    for i in 0..51u32 {
        let stream = 1 + 2 * i;
        frames.push(raw.headers(stream, false));
        frames.push(Frame::RstStream(RstStreamFrame {
            stream_id: stream,
            code: ErrorCode::CANCEL,
        }));
    }
    raw.send(&frames).await;
    assert_eq!(raw.goaway().await, ErrorCode::ENHANCE_YOUR_CALM);
}

#[tokio::test]
async fn fifty_resets_are_within_the_limit() {
    let (mut raw, server) = Raw::connect(server().max_remote_resets(50)).await;
    let mut frames = Vec::new();
    for i in 0..50u32 {
        let stream = 1 + 2 * i;
        frames.push(raw.headers(stream, false));
        frames.push(Frame::RstStream(RstStreamFrame {
            stream_id: stream,
            code: ErrorCode::CANCEL,
        }));
    }
    frames.push(Frame::Ping(PingFrame {
        ack: false,
        data: *b"still ok",
    }));
    raw.send(&frames).await;
    raw.until(
        "PING ack",
        |f| matches!(f, Frame::Ping(p) if p.ack && &p.data == b"still ok"),
    )
    .await;
    drop(server);
}

/// PING and SETTINGS floods from a client that never reads: the answers pile up until
/// the bound, then the server ends the connection (ENHANCE_YOUR_CALM; the GOAWAY waits
/// behind the answers the client never read, so the client may see only the close).
#[tokio::test]
async fn ping_and_settings_floods() {
    for settings in [false, true] {
        let (raw, _server) = Raw::connect(server().max_pending_control(100)).await;
        let flood = if settings {
            Frame::Settings(SettingsFrame::default())
        } else {
            Frame::Ping(PingFrame {
                ack: false,
                data: [0; 8],
            })
        };
        const FLOOD: usize = 10_000;
        let mut buf = BytesMut::new();
        for _ in 0..FLOOD {
            frame::encode(&flood, &mut buf);
        }
        // Written without reading: the server reads on while its answers cannot go out,
        // until the bound ends the connection (then the write fails: broken pipe).
        let (mut rd, mut wr) = tokio::io::split(raw.io);
        within("flood written or refused", wr.write_all(&buf))
            .await
            .ok();
        let mut rbuf = BytesMut::new();
        let (mut acks, mut goaway) = (0, None);
        within("the connection to end", async {
            loop {
                while let Some(f) = frame::decode(&mut rbuf, frame::MAX_MAX_FRAME_SIZE).unwrap() {
                    match f {
                        Frame::Ping(p) if p.ack => acks += 1,
                        Frame::Settings(s) if s.ack => acks += 1,
                        Frame::GoAway(g) => goaway = Some(g.code),
                        _ => {}
                    }
                }
                if rd.read_buf(&mut rbuf).await.unwrap_or(0) == 0 {
                    break;
                }
            }
        })
        .await;
        assert!(
            acks < FLOOD,
            "the server stopped answering ({acks} answers; settings: {settings})"
        );
        assert!(
            matches!(goaway, None | Some(ErrorCode::ENHANCE_YOUR_CALM)),
            "{goaway:?} (settings: {settings})"
        );
    }
}

#[tokio::test]
async fn continuation_flood_ends_the_connection() {
    let (mut raw, _server) = Raw::connect(server().max_continuation_frames(20)).await;
    let block = raw.request_block(&[]);
    let mut frames = vec![Frame::Headers(HeadersFrame::new(
        1,
        block.slice(..1),
        false,
        false,
    ))];
    for i in 1..block.len().min(21) {
        frames.push(Frame::Continuation(ContinuationFrame {
            stream_id: 1,
            block: block.slice(i..i + 1),
            end_headers: false,
        }));
    }
    for _ in 0..30 {
        frames.push(Frame::Continuation(ContinuationFrame {
            stream_id: 1,
            block: Bytes::new(),
            end_headers: false,
        }));
    }
    raw.send(&frames).await;
    assert_eq!(raw.goaway().await, ErrorCode::ENHANCE_YOUR_CALM);

    // A block too large for the header list bound, in big CONTINUATIONs.
    let (mut raw, _server) = Raw::connect(server().max_header_list_size(1000)).await;
    let mut frames = vec![Frame::Headers(HeadersFrame::new(
        1,
        Bytes::from(vec![0x40; 1500]),
        false,
        false,
    ))];
    // The bound is twice the list size plus 1,024 bytes: 3,024 here.
    for _ in 0..2 {
        frames.push(Frame::Continuation(ContinuationFrame {
            stream_id: 1,
            block: Bytes::from(vec![0x40; 1500]),
            end_headers: false,
        }));
    }
    raw.send(&frames).await;
    assert_eq!(raw.goaway().await, ErrorCode::ENHANCE_YOUR_CALM);
}

#[tokio::test]
async fn empty_data_at_the_edge() {
    let (mut raw, server) = Raw::connect(server().max_empty_frames(100)).await;
    let mut frames = vec![raw.headers(1, false)];
    for _ in 0..100 {
        frames.push(Frame::Data(DataFrame::new(1, Bytes::new(), false)));
    }
    frames.push(Frame::Ping(PingFrame {
        ack: false,
        data: *b"edge ok!",
    }));
    raw.send(&frames).await;
    raw.until(
        "PING ack",
        |f| matches!(f, Frame::Ping(p) if p.ack && &p.data == b"edge ok!"),
    )
    .await;
    drop(server);
}

#[tokio::test]
async fn empty_data_flood() {
    let (mut raw, _server) = Raw::connect(server().max_empty_frames(100)).await;
    let mut frames = vec![raw.headers(1, false)];
    for _ in 0..101 {
        frames.push(Frame::Data(DataFrame::new(1, Bytes::new(), false)));
    }
    raw.send(&frames).await;
    assert_eq!(raw.goaway().await, ErrorCode::ENHANCE_YOUR_CALM);
}

#[tokio::test]
async fn connection_and_stream_errors() {
    // Each case: frames after a valid request on stream 1, and the GOAWAY or RST_STREAM.
    enum Want {
        GoAway(ErrorCode),
        Reset(u32, ErrorCode),
    }
    let cases: Vec<(&str, Vec<Frame>, Want)> = vec![
        (
            "DATA on idle stream",
            vec![Frame::Data(DataFrame::new(9, "x".into(), true))],
            Want::GoAway(ErrorCode::PROTOCOL_ERROR),
        ),
        (
            "CONTINUATION without HEADERS",
            vec![Frame::Continuation(ContinuationFrame {
                stream_id: 1,
                block: Bytes::new(),
                end_headers: true,
            })],
            Want::GoAway(ErrorCode::PROTOCOL_ERROR),
        ),
        (
            "PUSH_PROMISE from a client",
            vec![Frame::PushPromise(frame::PushPromiseFrame {
                stream_id: 1,
                promised_stream_id: 2,
                block: Bytes::new(),
                end_headers: true,
                padding: None,
            })],
            Want::GoAway(ErrorCode::PROTOCOL_ERROR),
        ),
        (
            "bad HPACK",
            vec![Frame::Headers(HeadersFrame::new(
                3,
                Bytes::from_static(&[0xff, 0xff]),
                true,
                true,
            ))],
            Want::GoAway(ErrorCode::COMPRESSION_ERROR),
        ),
        (
            "WINDOW_UPDATE overflow",
            vec![Frame::WindowUpdate(frame::WindowUpdateFrame {
                stream_id: 0,
                increment: frame::MAX_WINDOW_SIZE,
            })],
            Want::GoAway(ErrorCode::FLOW_CONTROL_ERROR),
        ),
        (
            "stream WINDOW_UPDATE 0",
            vec![Frame::Unknown(frame::UnknownFrame {
                kind: 8,
                flags: 0,
                stream_id: 1,
                payload: Bytes::from_static(&[0, 0, 0, 0]),
            })],
            Want::Reset(1, ErrorCode::PROTOCOL_ERROR),
        ),
        (
            "malformed request",
            vec![Frame::Headers(HeadersFrame::new(
                3,
                Bytes::from_static(&[0x82]),
                true,
                true,
            ))],
            Want::Reset(3, ErrorCode::PROTOCOL_ERROR),
        ),
        (
            "DATA on a stream whose request ended",
            vec![Frame::Data(DataFrame::new(1, "x".into(), true))],
            Want::Reset(1, ErrorCode::STREAM_CLOSED),
        ),
    ];
    for (name, frames, want) in cases {
        let (mut raw, _server) = Raw::connect(server()).await;
        let request = raw.headers(1, name.starts_with("DATA on a stream whose"));
        raw.send(&[request]).await;
        raw.send(&frames).await;
        match want {
            Want::GoAway(code) => assert_eq!(raw.goaway().await, code, "{name}"),
            Want::Reset(stream, code) => assert_eq!(raw.reset(stream).await, code, "{name}"),
        }
    }
}

/// The same client bytes (preface, SETTINGS, a request with a padded body and
/// CONTINUATION, a PING) delivered split at every offset give the same events.
#[tokio::test]
async fn input_split_at_every_offset() {
    let mut encoder = Encoder::new();
    let mut block = BytesMut::new();
    encoder.encode(
        &[
            Field::new(":method", "POST"),
            Field::new(":scheme", "http"),
            Field::new(":authority", "a"),
            Field::new(":path", "/split"),
            Field::new("x-long", "v".repeat(40)),
        ],
        &mut block,
    );
    let block = block.freeze();
    let mut wire = BytesMut::from(PREFACE);
    for f in [
        Frame::Settings(SettingsFrame::default()),
        Frame::Headers(HeadersFrame::new(1, block.slice(..10), false, false)),
        Frame::Continuation(ContinuationFrame {
            stream_id: 1,
            block: block.slice(10..),
            end_headers: true,
        }),
        Frame::Data(DataFrame {
            stream_id: 1,
            data: "padded body".into(),
            end_stream: true,
            padding: Some(5),
        }),
        Frame::Ping(PingFrame {
            ack: false,
            data: *b"pingpong",
        }),
    ] {
        frame::encode(&f, &mut wire);
    }
    for cut in 0..=wire.len() {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let server = Session::new(b, Role::Server);
        let mut raw = Raw {
            io: a,
            rbuf: BytesMut::new(),
            encoder: Encoder::new(),
        };
        raw.write(&wire[..cut]).await;
        tokio::task::yield_now().await;
        raw.write(&wire[cut..]).await;
        let Event::RecvHeaders { headers, .. } = request_event(&server).await else {
            panic!("cut {cut}: headers")
        };
        assert_eq!(headers.get(":path"), Some("/split"), "cut {cut}");
        let Event::RecvData {
            data,
            end_stream: true,
            ..
        } = request_event(&server).await
        else {
            panic!("cut {cut}: data")
        };
        assert_eq!(&data[..], b"padded body", "cut {cut}");
        raw.until("PING ack", |f| matches!(f, Frame::Ping(p) if p.ack))
            .await;
    }
}
