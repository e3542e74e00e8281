//! `frame::decode` on arbitrary bytes: never panics, and never grows the buffer it is
//! given (a frame over `max_frame_size` is refused from its header alone).
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
    let limit = buf.capacity();
    while let Ok(Some(_)) = frame::decode(&mut buf, max) {}
    assert!(buf.capacity() <= limit);
});
