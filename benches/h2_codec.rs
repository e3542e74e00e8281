//! `httpstack::h2` codec throughput beside the references (docs/design.md: "h2's own codec
//! (frames)"), in one run:
//!
//! - frames: encode + decode of a 16 KiB DATA frame and of a HEADERS frame with a
//!   20-field block (HPACK included, tables warm), ours vs `h2::Codec` (the `h2` crate's
//!   framed codec, exposed by its `unstable` feature) over an in-memory loopback. Both
//!   sides copy the wire bytes once into a read buffer, as a socket read would.
//! - HPACK: encoding every `raw-data` story of the hpack-test-case corpus (a fresh
//!   encoder per story), decoding our own output, and decoding the same input (the
//!   corpus's Huffman-coded `nghttp2` stories) with both, ours vs `loona-hpack` (the
//!   maintained fork of the `hpack` crate; it never Huffman-encodes, so its encoder does
//!   less work and its output is larger).
//!
//! Run: `cargo bench --bench h2_codec` (criterion; the ratio is the reference's time over
//! ours). The corpus is read from `../shared/hpack-test-case`; without it the HPACK
//! groups are skipped with a printed reason.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::h2::frame::{Data, Frame as H2Frame, Headers as H2Headers, Pseudo, StreamId};
use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use futures_util::StreamExt;
use httpstack::h2::frame::{self, DataFrame, Frame, HeadersFrame};
use httpstack::h2::hpack::{Decoder, Encoder, Field};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Writes append to a buffer that reads drain: a codec talking to itself.
#[derive(Default)]
struct Loopback {
    buf: BytesMut,
}

impl AsyncRead for Loopback {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.buf.len().min(out.remaining());
        let chunk = self.buf.split_to(n);
        out.put_slice(&chunk);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Loopback {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A 20-field request as a browser sends it.
fn twenty_fields() -> Vec<(&'static str, String)> {
    let fields = vec![
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_string(),
        ),
        ("accept-encoding", "gzip, deflate, br".into()),
        ("accept-language", "en-US,en;q=0.5".into()),
        ("cache-control", "no-cache".into()),
        ("cookie", "session=0123456789abcdef; theme=dark".into()),
        ("dnt", "1".into()),
        ("pragma", "no-cache".into()),
        ("referer", "https://example.com/previous/page".into()),
        ("sec-fetch-dest", "document".into()),
        ("sec-fetch-mode", "navigate".into()),
        ("sec-fetch-site", "same-origin".into()),
        ("upgrade-insecure-requests", "1".into()),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0".into(),
        ),
        (
            "x-request-id",
            "5f1d8c1e-7c1b-4e52-9a63-0a1e1f6a9b2c".into(),
        ),
        ("x-forwarded-for", "203.0.113.7".into()),
        ("te", "trailers".into()),
    ];
    assert_eq!(fields.len(), 16);
    fields
}

fn frames(c: &mut Criterion) {
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let payload = Bytes::from(vec![0x5a; 16 * 1024]);

    let mut group = c.benchmark_group("frame DATA 16 KiB encode+decode");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("httpstack", |b| {
        let mut wire = BytesMut::with_capacity(32 * 1024);
        let mut rbuf = BytesMut::with_capacity(32 * 1024);
        b.iter(|| {
            frame::encode(
                &Frame::Data(DataFrame::new(1, payload.clone(), false)),
                &mut wire,
            );
            rbuf.extend_from_slice(&wire);
            wire.clear();
            let f = frame::decode(&mut rbuf, 1 << 20)
                .expect("valid")
                .expect("whole");
            black_box(f);
        })
    });
    group.bench_function("h2::Codec", |b| {
        let mut codec: ::h2::Codec<Loopback, Bytes> =
            ::h2::Codec::with_max_recv_frame_size(Loopback::default(), 1 << 20);
        b.iter(|| {
            let data = Data::new(StreamId::from(1), payload.clone());
            codec.buffer(H2Frame::Data(data)).expect("buffer");
            assert!(codec.flush(&mut cx).is_ready());
            let Poll::Ready(Some(Ok(f))) = codec.poll_next_unpin(&mut cx) else {
                panic!("frame")
            };
            black_box(f);
        })
    });
    group.finish();

    let fields = twenty_fields();
    let mut group = c.benchmark_group("frame HEADERS 20 fields encode+decode (HPACK included)");
    group.throughput(Throughput::Elements(1));
    group.bench_function("httpstack", |b| {
        let mut list = vec![
            Field::new(":method", "GET"),
            Field::new(":scheme", "https"),
            Field::new(":authority", "example.com"),
            Field::new(":path", "/index.html"),
        ];
        list.extend(fields.iter().map(|(n, v)| Field::new(n, v)));
        assert_eq!(list.len(), 20);
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::new();
        let mut block = BytesMut::new();
        let mut wire = BytesMut::with_capacity(4096);
        let mut rbuf = BytesMut::with_capacity(4096);
        b.iter(|| {
            encoder.encode(&list, &mut block);
            let f = Frame::Headers(HeadersFrame::new(1, block.split().freeze(), true, true));
            frame::encode(&f, &mut wire);
            rbuf.extend_from_slice(&wire);
            wire.clear();
            let Some(Frame::Headers(h)) = frame::decode(&mut rbuf, 1 << 20).expect("valid") else {
                panic!("headers")
            };
            black_box(decoder.decode(&h.block).expect("block"));
        })
    });
    group.bench_function("h2::Codec", |b| {
        let mut codec: ::h2::Codec<Loopback, Bytes> =
            ::h2::Codec::with_max_recv_frame_size(Loopback::default(), 1 << 20);
        let mut map = http::HeaderMap::new();
        for (n, v) in &fields {
            map.append(*n, v.parse().expect("value"));
        }
        let uri: http::Uri = "https://example.com/index.html".parse().expect("uri");
        b.iter(|| {
            let pseudo = Pseudo::request(http::Method::GET, uri.clone(), None);
            let mut h = H2Headers::new(StreamId::from(1), pseudo, map.clone());
            h.set_end_stream();
            codec.buffer(H2Frame::Headers(h)).expect("buffer");
            assert!(codec.flush(&mut cx).is_ready());
            let Poll::Ready(Some(Ok(f))) = codec.poll_next_unpin(&mut cx) else {
                panic!("frame")
            };
            black_box(f);
        })
    });
    group.finish();
}

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/hpack-test-case");
    if dir.join("raw-data").is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping the HPACK groups: no corpus at {}", dir.display());
        None
    }
}

/// One corpus case: its header list and its wire bytes (empty in `raw-data`).
type Case = (Vec<(String, String)>, Vec<u8>);

fn stories(dir: &Path, key: &str) -> Vec<Vec<Case>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json");
            json["cases"]
                .as_array()
                .expect("cases")
                .iter()
                .map(|case| {
                    let headers = case["headers"]
                        .as_array()
                        .expect("headers")
                        .iter()
                        .flat_map(|h| {
                            h.as_object()
                                .expect("object")
                                .iter()
                                .map(|(n, v)| (n.clone(), v.as_str().expect("str").to_string()))
                        })
                        .collect();
                    let wire = case
                        .get(key)
                        .and_then(|w| w.as_str())
                        .map(|w| {
                            (0..w.len())
                                .step_by(2)
                                .map(|i| u8::from_str_radix(&w[i..i + 2], 16).expect("hex"))
                                .collect()
                        })
                        .unwrap_or_default();
                    (headers, wire)
                })
                .collect()
        })
        .collect()
}

fn hpack(c: &mut Criterion) {
    let Some(root) = corpus() else { return };
    let raw = stories(&root.join("raw-data"), "wire");
    let blocks: usize = raw.iter().map(Vec::len).sum();
    let ours: Vec<Vec<Vec<Field>>> = raw
        .iter()
        .map(|s| {
            s.iter()
                .map(|(h, _)| h.iter().map(|(n, v)| Field::new(n, v)).collect())
                .collect()
        })
        .collect();

    let mut group = c.benchmark_group("hpack encode raw-data corpus");
    group.throughput(Throughput::Elements(blocks as u64));
    group.bench_function("httpstack", |b| {
        let mut out = BytesMut::with_capacity(1 << 16);
        b.iter(|| {
            for story in &ours {
                let mut encoder = Encoder::new();
                for fields in story {
                    encoder.encode(fields, &mut out);
                    out.clear();
                }
            }
        })
    });
    group.bench_function("httpstack without Huffman", |b| {
        let mut out = BytesMut::with_capacity(1 << 16);
        b.iter(|| {
            for story in &ours {
                let mut encoder = Encoder::new();
                encoder.set_huffman(false);
                for fields in story {
                    encoder.encode(fields, &mut out);
                    out.clear();
                }
            }
        })
    });
    group.bench_function("loona-hpack", |b| {
        let mut out = Vec::with_capacity(1 << 16);
        b.iter(|| {
            for story in &raw {
                let mut encoder = loona_hpack::Encoder::new();
                for (headers, _) in story {
                    encoder
                        .encode_into(
                            headers.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
                            &mut out,
                        )
                        .expect("encode");
                    out.clear();
                }
            }
        })
    });
    group.finish();

    // Each decoder on its own encoder's output.
    let our_wire: Vec<Vec<BytesMut>> = ours
        .iter()
        .map(|story| {
            let mut encoder = Encoder::new();
            story
                .iter()
                .map(|f| {
                    let mut b = BytesMut::new();
                    encoder.encode(f, &mut b);
                    b
                })
                .collect()
        })
        .collect();
    let our_plain_wire: Vec<Vec<BytesMut>> = ours
        .iter()
        .map(|story| {
            let mut encoder = Encoder::new();
            encoder.set_huffman(false);
            story
                .iter()
                .map(|f| {
                    let mut b = BytesMut::new();
                    encoder.encode(f, &mut b);
                    b
                })
                .collect()
        })
        .collect();
    let loona_wire: Vec<Vec<Vec<u8>>> = raw
        .iter()
        .map(|story| {
            let mut encoder = loona_hpack::Encoder::new();
            story
                .iter()
                .map(|(h, _)| encoder.encode(h.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()))))
                .collect()
        })
        .collect();
    let mut group = c.benchmark_group("hpack decode own encoding of raw-data");
    group.throughput(Throughput::Elements(blocks as u64));
    group.bench_function("httpstack", |b| {
        b.iter(|| {
            for story in &our_wire {
                let mut decoder = Decoder::new();
                for block in story {
                    black_box(decoder.decode(block).expect("decode"));
                }
            }
        })
    });
    group.bench_function("httpstack without Huffman", |b| {
        b.iter(|| {
            for story in &our_plain_wire {
                let mut decoder = Decoder::new();
                for block in story {
                    black_box(decoder.decode(block).expect("decode"));
                }
            }
        })
    });
    group.bench_function("loona-hpack", |b| {
        b.iter(|| {
            for story in &loona_wire {
                let mut decoder = loona_hpack::Decoder::new();
                for block in story {
                    black_box(decoder.decode(block).expect("decode"));
                }
            }
        })
    });
    group.finish();

    // The same Huffman-coded input for both.
    let nghttp2 = stories(&root.join("nghttp2"), "wire");
    let blocks: usize = nghttp2.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("hpack decode nghttp2 corpus (Huffman)");
    group.throughput(Throughput::Elements(blocks as u64));
    group.bench_function("httpstack", |b| {
        b.iter(|| {
            for story in &nghttp2 {
                let mut decoder = Decoder::new();
                for (_, wire) in story {
                    black_box(decoder.decode(wire).expect("decode"));
                }
            }
        })
    });
    group.bench_function("loona-hpack", |b| {
        b.iter(|| {
            for story in &nghttp2 {
                let mut decoder = loona_hpack::Decoder::new();
                for (_, wire) in story {
                    black_box(decoder.decode(wire).expect("decode"));
                }
            }
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = frames, hpack }
criterion_main!(benches);
