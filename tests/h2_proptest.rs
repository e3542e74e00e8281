//! Property tests for `httpstack::h2::frame` and `httpstack::h2::hpack` (modest case
//! counts, so the normal run stays fast; `fuzz/` runs the same targets without end):
//! decoding arbitrary bytes never panics, never grows its buffer and bounds its lists, and
//! encode → decode is the identity, also with the bytes split at an arbitrary offset.

use bytes::{Bytes, BytesMut};
use httpstack::h2::frame::{
    self, ContinuationFrame, DataFrame, ErrorCode, Frame, GoAwayFrame, HeadersFrame, PingFrame,
    PrioritySpec, RstStreamFrame, Setting, SettingsFrame, WindowUpdateFrame,
};
use httpstack::h2::hpack::{Decoder, Encoder, Field};
use httpstack::h2::{Role, Session};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MAX_FRAME: u32 = 16_384;

fn stream_id() -> impl Strategy<Value = u32> {
    1u32..0x7fff_ffff
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn a_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (
            stream_id(),
            bytes(300),
            any::<bool>(),
            proptest::option::of(any::<u8>())
        )
            .prop_map(
                |(stream_id, data, end_stream, padding)| Frame::Data(DataFrame {
                    stream_id,
                    data,
                    end_stream,
                    padding
                })
            ),
        (
            stream_id(),
            bytes(300),
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(any::<u8>()),
            any::<bool>(),
            0u32..100,
            any::<u8>()
        )
            .prop_filter("no self-dependency", |t| t.0 != t.6)
            .prop_map(
                |(stream_id, block, end_stream, end_headers, padding, prio, dependency, weight)| {
                    Frame::Headers(HeadersFrame {
                        stream_id,
                        block,
                        end_stream,
                        end_headers,
                        padding,
                        priority: prio.then_some(PrioritySpec {
                            exclusive: weight % 2 == 0,
                            dependency,
                            weight,
                        }),
                    })
                }
            ),
        (stream_id(), any::<u32>()).prop_map(|(stream_id, code)| Frame::RstStream(
            RstStreamFrame {
                stream_id,
                code: ErrorCode(code)
            }
        )),
        proptest::collection::vec((7u16..100, any::<u32>()), 0..10).prop_map(|p| Frame::Settings(
            SettingsFrame {
                ack: false,
                params: p
                    .into_iter()
                    .map(|(id, value)| Setting::new(id, value))
                    .collect()
            }
        )),
        (any::<bool>(), any::<[u8; 8]>())
            .prop_map(|(ack, data)| Frame::Ping(PingFrame { ack, data })),
        (0u32..0x7fff_ffff, any::<u32>(), bytes(100)).prop_map(|(last_stream_id, code, debug)| {
            Frame::GoAway(GoAwayFrame {
                last_stream_id,
                code: ErrorCode(code),
                debug,
            })
        }),
        (0u32..10, 1u32..0x7fff_ffff).prop_map(|(stream_id, increment)| Frame::WindowUpdate(
            WindowUpdateFrame {
                stream_id,
                increment
            }
        )),
        (stream_id(), bytes(300), any::<bool>()).prop_map(|(stream_id, block, end_headers)| {
            Frame::Continuation(ContinuationFrame {
                stream_id,
                block,
                end_headers,
            })
        }),
    ]
}

fn a_field() -> impl Strategy<Value = Field> {
    (
        "[a-z][a-z0-9-]{0,20}",
        proptest::collection::vec(any::<u8>(), 0..60),
        any::<bool>(),
    )
        .prop_map(|(name, value, sensitive)| {
            if sensitive {
                Field::sensitive(name, value)
            } else {
                Field::new(name, value)
            }
        })
}

/// A request block that needs no dynamic table (so any case can use it on its own).
fn request_block() -> Bytes {
    let mut encoder = Encoder::with_table_size(0);
    let mut block = BytesMut::new();
    let fields = [
        Field::new(":method", "GET"),
        Field::new(":scheme", "http"),
        Field::new(":authority", "x"),
        Field::new(":path", "/"),
    ];
    encoder.encode(&fields, &mut block);
    block.freeze()
}

/// Frames a client might send, valid or not: requests on small odd streams, and anything.
fn client_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (0u32..8, any::<bool>()).prop_map(|(n, end_stream)| Frame::Headers(HeadersFrame::new(
            2 * n + 1,
            request_block(),
            end_stream,
            true
        ))),
        (0u32..8, bytes(100), any::<bool>()).prop_map(|(n, data, end_stream)| Frame::Data(
            DataFrame::new(2 * n + 1, data, end_stream)
        )),
        a_frame(),
    ]
}

/// Whether any thread panicked since the hook was installed (a session's task runs on the
/// runtime, where a panic would otherwise only end the session quietly).
fn panicked() -> &'static std::sync::atomic::AtomicBool {
    static FLAG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            FLAG.store(true, std::sync::atomic::Ordering::SeqCst);
            previous(info);
        }));
    });
    &FLAG
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A server session fed the preface and arbitrary frames never panics and always
    /// ends or answers: every byte it writes is a valid frame.
    #[test]
    fn session_survives_arbitrary_frames(frames in proptest::collection::vec(client_frame(), 0..20)) {
        let flag = panicked();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (mut client, io) = tokio::io::duplex(1 << 20);
            let server = Session::new(io, Role::Server);
            let mut wire = BytesMut::from(&b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..]);
            frame::encode(&Frame::Settings(SettingsFrame::default()), &mut wire);
            for f in &frames {
                frame::encode(f, &mut wire);
            }
            client.write_all(&wire).await.unwrap();
            // Whatever the server says back must decode as frames.
            let mut answer = BytesMut::new();
            let _ = tokio::time::timeout(std::time::Duration::from_millis(50), async {
                while client.read_buf(&mut answer).await.unwrap_or(0) > 0 {}
            })
            .await;
            while let Some(_f) = frame::decode(&mut answer, 1 << 24).expect("the server writes valid frames") {}
            // Closing our side first ends the session's linger after an error at once.
            drop(client);
            server.close().await;
        });
        prop_assert!(!flag.load(std::sync::atomic::Ordering::SeqCst), "a panic happened");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn frame_decode_never_panics_nor_grows_its_buffer(input in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut buf = BytesMut::from(&input[..]);
        let limit = buf.capacity();
        for _ in 0..input.len() + 1 {
            match frame::decode(&mut buf, MAX_FRAME) {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        prop_assert!(buf.capacity() <= limit, "capacity {} over {}", buf.capacity(), limit);
    }

    #[test]
    fn hpack_decode_never_panics_and_bounds_the_list(input in proptest::collection::vec(any::<u8>(), 0..2000), max in 0usize..4000) {
        let mut decoder = Decoder::new();
        decoder.set_max_header_list_size(max);
        if let Ok(fields) = decoder.decode(&input) {
            prop_assert!(fields.iter().map(Field::size).sum::<usize>() <= max);
        }
    }

    #[test]
    fn frames_roundtrip_split_anywhere(frames in proptest::collection::vec(a_frame(), 1..8), cut in any::<prop::sample::Index>()) {
        let mut wire = BytesMut::new();
        for f in &frames {
            frame::encode(f, &mut wire);
        }
        let cut = cut.index(wire.len() + 1);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for part in [&wire[..cut], &wire[cut..]] {
            buf.extend_from_slice(part);
            while let Some(f) = frame::decode(&mut buf, MAX_FRAME).expect("valid frames") {
                out.push(f);
            }
        }
        prop_assert_eq!(out, frames);
    }

    #[test]
    fn hpack_roundtrips(blocks in proptest::collection::vec(proptest::collection::vec(a_field(), 0..12), 1..6), table in prop_oneof![Just(4096usize), 0usize..300]) {
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::new();
        if table != 4096 {
            encoder.set_max_table_size(table);
            decoder.set_max_table_size(table);
        }
        for fields in blocks {
            let mut block = BytesMut::new();
            encoder.encode(&fields, &mut block);
            prop_assert_eq!(decoder.decode(&block).expect("own block"), fields);
        }
    }
}
