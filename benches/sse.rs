//! SSE parsing throughput (MB/s): `SseParser` over a `text/event-stream` fed in 16 KiB
//! chunks, for three shapes of stream: many small events (`id` + one short `data` line),
//! chat-style events (an `event` name and several `data` lines of JSON), and few large
//! events (64 KiB of `data` in 1 KiB lines). CRLF line ends are measured once too.
//!
//! Run: `cargo bench --bench sse` (`-- --measurement-time 2` for a quick look).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use httpstack::sse::SseParser;

const STREAM_BYTES: usize = 1024 * 1024;
const CHUNK: usize = 16 * 1024;

fn stream_of(event: impl Fn(usize) -> String) -> Vec<u8> {
    let mut out = String::with_capacity(STREAM_BYTES + 64 * 1024);
    let mut i = 0;
    while out.len() < STREAM_BYTES {
        out.push_str(&event(i));
        i += 1;
    }
    out.into_bytes()
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let small = |i: usize| {
        format!("id: {i}\ndata: {{\"n\":{i},\"text\":\"hello world, event number {i}\"}}\n\n")
    };
    let chat = |i: usize| {
        format!(
            "event: delta\nid: {i}\ndata: {{\"choices\":[{{\"delta\":{{\"content\":\"token {i}\"}}}}],\ndata: \"usage\":{{\"n\":{i}}},\ndata: \"model\":\"bench\"}}\n\n"
        )
    };
    let large = |i: usize| {
        let line = format!("data: {}\n", "x".repeat(1024 - 7));
        format!("id: {i}\n{}\n", line.repeat(64))
    };
    vec![
        ("small_events", stream_of(small)),
        (
            "small_events_crlf",
            stream_of(|i| small(i).replace('\n', "\r\n")),
        ),
        ("chat_events", stream_of(chat)),
        ("large_events", stream_of(large)),
    ]
}

fn parse_all(input: &[u8]) -> usize {
    let mut parser = SseParser::new();
    let mut events = 0;
    for chunk in input.chunks(CHUNK) {
        parser.feed(chunk).expect("bench input parses");
        while let Some(event) = parser.next_event() {
            events += black_box(event).data.len().min(1);
        }
    }
    events
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse_parse");
    for (name, input) in inputs() {
        assert!(parse_all(&input) > 0, "{name} yields events");
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
            b.iter(|| parse_all(black_box(input)))
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
