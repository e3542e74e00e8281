//! The SSE parser on arbitrary bytes fed in arbitrary pieces: never panics, and stops at
//! its typed error.
#![no_main]

use httpstack::sse::SseParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = SseParser::new();
    // The first byte says where the pieces are cut.
    let step = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for piece in data.chunks(step) {
        if parser.feed(piece).is_err() {
            return;
        }
        while parser.next_event().is_some() {}
    }
});
