//! `frame::decode` on arbitrary bytes: never panics, and never reserves more than one
//! frame header plus `max_frame_size` beyond what it was given.
#![no_main]

use bytes::BytesMut;
use httpstack::h2::frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the frame size limit, so large limits are covered too.
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let max = frame::DEFAULT_MAX_FRAME_SIZE << (pick % 8);
    let mut buf = BytesMut::from(input);
    let limit = buf.capacity().max(frame::HEADER_LEN + max as usize);
    while let Ok(Some(_)) = frame::decode(&mut buf, max) {}
    assert!(buf.capacity() <= limit);
});
