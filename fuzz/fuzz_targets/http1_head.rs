//! `messages::parse_request_head` and `parse_response_head` on arbitrary bytes: never
//! panic, and a complete head parses the same from any longer prefix.
#![no_main]

use httpstack::messages::{parse_request_head, parse_response_head};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((parts, len))) = parse_request_head(data) {
        assert!(len <= data.len());
        let again = parse_request_head(&data[..len]);
        assert!(matches!(again, Ok(Some((ref p, l))) if l == len && p.uri == parts.uri));
    }
    if let Ok(Some((_, len))) = parse_response_head(data) {
        assert!(len <= data.len());
    }
});
