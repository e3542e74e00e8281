//! HPACK, the field compression of HTTP/2 (RFC 7541): an [`Encoder`] and a [`Decoder`],
//! each with its own dynamic table, one pair per connection.
//!
//! What is covered: the static table (Appendix A) and the dynamic table with eviction
//! (§4), table-size updates (§6.3; the decoder refuses one above its limit or after the
//! first field of a block), indexed fields and the three literal forms (§6.1, §6.2),
//! including never-indexed fields, which the encoder uses for every [`Field`] marked
//! `sensitive` and the decoder reports as such (§7.1.3), the Huffman code (§5.2; the
//! encoder Huffman-codes a string unless that is longer), and a bound on the decoded
//! header list size (RFC 9113 §6.5.2, `SETTINGS_MAX_HEADER_LIST_SIZE`).
//!
//! Why hand-written (docs/design.md asks for the reason): `fluke-hpack` / `loona-hpack` (the
//! maintained forks of the `hpack` crate) never Huffman-encode, so every header costs
//! about a quarter more on the wire, decode Huffman strings a bit at a time (about 90
//! times slower than this module on the corpus's Huffman-coded stories, see
//! `benches/h2_codec.rs`), and decode into `Vec<(Vec<u8>, Vec<u8>)>` with no bound on
//! the list size; `httlib-hpack` has had no release since 2020; the `h2`
//! crate's HPACK is private. A decoder that bounds what it allocates by the block it is
//! given and by the list-size limit, and keeps its table in step even when it refuses a
//! list as too large (so the connection can go on, RFC 9113 §4.3), is small enough to own.
//!
//! Checked against RFC 7541 Appendix C (every C.2–C.6 example, in this module's tests)
//! and the hpack-test-case corpus (`tests/h2_hpack_corpus.rs`).
//!
//! ```
//! use bytes::BytesMut;
//! use httpstack::h2::hpack::{Decoder, Encoder, Field};
//!
//! let fields = vec![Field::new(":method", "GET"), Field::new("x-id", "42")];
//! let mut encoder = Encoder::new();
//! let mut decoder = Decoder::new();
//! let mut block = BytesMut::new();
//! encoder.encode(&fields, &mut block);
//! assert_eq!(decoder.decode(&block)?, fields);
//! # Ok::<(), httpstack::h2::hpack::DecoderError>(())
//! ```

mod decoder;
mod encoder;
mod huffman;
mod huffman_table;
mod table;

use bytes::Bytes;

pub use decoder::{Decoder, DecoderError};
pub use encoder::Encoder;

/// The initial `SETTINGS_HEADER_TABLE_SIZE` (RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// One header field: a name, a value, and whether it is sensitive (encoded as
/// never-indexed, RFC 7541 §7.1.3, so no intermediary puts it in a table).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Field {
    /// The name, lowercase in HTTP/2 (RFC 9113 §8.2.1).
    pub name: Bytes,
    /// The value.
    pub value: Bytes,
    /// Never index this field.
    pub sensitive: bool,
}

impl Field {
    /// A field that may be indexed.
    pub fn new(name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Field {
        Field {
            name: Bytes::copy_from_slice(name.as_ref()),
            value: Bytes::copy_from_slice(value.as_ref()),
            sensitive: false,
        }
    }

    /// A field that must never be indexed (an `authorization` or `cookie` value).
    pub fn sensitive(name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Field {
        Field {
            sensitive: true,
            ..Field::new(name, value)
        }
    }

    /// The size RFC 9113 §6.5.2 and RFC 7541 §4.1 count: name, value and 32.
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + table::ENTRY_OVERHEAD
    }
}

impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = String::from_utf8_lossy(&self.name);
        if self.sensitive {
            write!(f, "{name}: <sensitive>")
        } else {
            write!(f, "{name}: {}", String::from_utf8_lossy(&self.value))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use bytes::BytesMut;

    use super::*;

    pub(crate) fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    pub(crate) fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    type Case = (&'static str, &'static [(&'static str, &'static str)]);

    const REQ1: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ];
    const REQ2: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
        ("cache-control", "no-cache"),
    ];
    const REQ3: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/index.html"),
        (":authority", "www.example.com"),
        ("custom-key", "custom-value"),
    ];
    const RESP1: &[(&str, &str)] = &[
        (":status", "302"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ];
    const RESP2: &[(&str, &str)] = &[
        (":status", "307"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ];
    const RESP3: &[(&str, &str)] = &[
        (":status", "200"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        ("location", "https://www.example.com"),
        ("content-encoding", "gzip"),
        (
            "set-cookie",
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        ),
    ];

    /// RFC 7541 C.3 (requests without Huffman) and C.4 (with).
    const C3: &[Case] = &[
        ("828684410f7777772e6578616d706c652e636f6d", REQ1),
        ("828684be58086e6f2d6361636865", REQ2),
        (
            "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
            REQ3,
        ),
    ];
    const C4: &[Case] = &[
        ("828684418cf1e3c2e5f23a6ba0ab90f4ff", REQ1),
        ("828684be5886a8eb10649cbf", REQ2),
        ("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf", REQ3),
    ];
    /// RFC 7541 C.5 (responses, table size 256, without Huffman) and C.6 (with).
    const C5: &[Case] = &[
        ("4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d", RESP1),
        ("4803333037c1c0bf", RESP2),
        ("88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31", RESP3),
    ];
    const C6: &[Case] = &[
        ("488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3", RESP1),
        ("4883640effc1c0bf", RESP2),
        ("88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007", RESP3),
    ];

    fn fields(list: &[(&str, &str)]) -> Vec<Field> {
        list.iter().map(|(n, v)| Field::new(n, v)).collect()
    }

    #[test]
    fn rfc7541_c3_to_c6_decode() {
        for (name, cases, table) in [
            ("C.3", C3, 4096),
            ("C.4", C4, 4096),
            ("C.5", C5, 256),
            ("C.6", C6, 256),
        ] {
            let mut decoder = Decoder::new();
            decoder.set_max_table_size(table);
            for (i, (wire, expected)) in cases.iter().enumerate() {
                let got = decoder.decode(&unhex(wire));
                assert_eq!(got, Ok(fields(expected)), "{name} case {i}");
            }
        }
    }

    /// Our encoder, with Huffman on and the C.3-C.6 indexing choices, produces the
    /// RFC's exact bytes for C.4 and C.6 (and, Huffman off, C.3 and C.5).
    #[test]
    fn rfc7541_c3_to_c6_encode() {
        for (name, cases, table, huffman) in [
            ("C.3", C3, 4096, false),
            ("C.4", C4, 4096, true),
            ("C.5", C5, 256, false),
            ("C.6", C6, 256, true),
        ] {
            let mut encoder = Encoder::with_table_size(table);
            encoder.set_huffman(huffman);
            for (i, (wire, list)) in cases.iter().enumerate() {
                let mut out = BytesMut::new();
                encoder.encode(&fields(list), &mut out);
                assert_eq!(hex(&out), *wire, "{name} case {i}");
            }
        }
    }

    /// C.2: the four literal forms one at a time, and C.1 integers.
    #[test]
    fn rfc7541_c1_c2() {
        let cases: &[(&str, Field, usize)] = &[
            (
                "400a637573746f6d2d6b65790d637573746f6d2d686561646572",
                Field::new("custom-key", "custom-header"),
                1,
            ),
            (
                "040c2f73616d706c652f70617468",
                Field::new(":path", "/sample/path"),
                0,
            ),
            (
                "100870617373776f726406736563726574",
                Field::sensitive("password", "secret"),
                0,
            ),
            ("82", Field::new(":method", "GET"), 0),
        ];
        for (wire, field, table_len) in cases {
            let mut decoder = Decoder::new();
            assert_eq!(
                decoder.decode(&unhex(wire)),
                Ok(vec![field.clone()]),
                "{wire}"
            );
            assert_eq!(decoder.table_len(), *table_len, "{wire}");
        }
        // C.1: 10 in a 5-bit prefix, 1337 in a 5-bit prefix, 42 at an octet boundary.
        for (value, prefix, wire) in [(10usize, 5u8, "0a"), (1337, 5, "1f9a0a"), (42, 8, "2a")] {
            let mut out = BytesMut::new();
            encoder::encode_int(value, prefix, 0, &mut out);
            assert_eq!(hex(&out), wire);
            assert_eq!(decoder::decode_int(&out, &mut 0, prefix), Ok(value));
        }
    }
}
