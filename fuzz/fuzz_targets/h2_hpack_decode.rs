//! `hpack::Decoder` on arbitrary blocks sharing one dynamic table: never panics, and a
//! decoded list never exceeds the header list bound.
#![no_main]

use httpstack::h2::hpack::{Decoder, Field};
use libfuzzer_sys::fuzz_target;

const MAX_LIST: usize = 8 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new();
    decoder.set_max_header_list_size(MAX_LIST);
    // Blocks separated by 0xfe, so state carries across blocks.
    for block in data.split(|&b| b == 0xfe) {
        match decoder.decode(block) {
            Ok(fields) => assert!(fields.iter().map(Field::size).sum::<usize>() <= MAX_LIST),
            Err(err) if err.is_connection_error() => return,
            Err(_) => {}
        }
    }
});
