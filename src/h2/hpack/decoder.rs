//! The HPACK decoder (RFC 7541 §3, §6).

use bytes::Bytes;

use super::huffman::{self, HuffmanError};
use super::table::{DynamicTable, STATIC};
use super::{Field, DEFAULT_TABLE_SIZE};

/// The decoder's default bound on a decoded header list, in RFC 9113 §6.5.2 bytes
/// (names, values and 32 per field): 64 KiB, as nghttp2 and Go use.
pub const DEFAULT_MAX_HEADER_LIST_SIZE: usize = 64 * 1024;

/// Why a header block could not be decoded.
///
/// Every kind but [`DecoderError::HeaderListTooLarge`] leaves the decoder's dynamic table
/// out of step with the encoder's, which RFC 9113 §4.3 makes a connection error of type
/// `COMPRESSION_ERROR`. `HeaderListTooLarge` is reported after the whole block was
/// processed, with the table in step, so only the stream needs to fail.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecoderError {
    /// The block ends inside a field.
    #[error("HPACK block truncated at byte {0}")]
    Truncated(usize),
    /// An integer does not fit (RFC 7541 §5.1 leaves the bound to the decoder).
    #[error("HPACK integer overflows at byte {0}")]
    IntegerOverflow(usize),
    /// An index is 0 or past the end of both tables (§2.3.3).
    #[error("HPACK index {index} is not in the table (at byte {at})")]
    InvalidIndex {
        /// The index.
        index: usize,
        /// Its byte offset.
        at: usize,
    },
    /// A table-size update above the limit the decoder's side set (§6.3).
    #[error("HPACK table size update to {size} exceeds the limit {max}")]
    TableSizeTooLarge {
        /// The requested size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A table-size update after a field (§4.2: only at the start of a block).
    #[error("HPACK table size update after a field, at byte {0}")]
    LateTableSizeUpdate(usize),
    /// An invalid Huffman string: EOS inside, or bad padding (§5.2).
    #[error("invalid HPACK Huffman string at byte {0}")]
    Huffman(usize),
    /// The decoded list exceeds the bound (RFC 9113 §6.5.2); the table is in step.
    #[error("header list of at least {size} bytes exceeds the limit {max}")]
    HeaderListTooLarge {
        /// The size counted when the limit was passed.
        size: usize,
        /// The limit.
        max: usize,
    },
}

impl DecoderError {
    /// Whether the connection must end (`COMPRESSION_ERROR`): every error but
    /// [`DecoderError::HeaderListTooLarge`].
    pub fn is_connection_error(&self) -> bool {
        !matches!(self, DecoderError::HeaderListTooLarge { .. })
    }
}

/// An HPACK decoder: one per connection, fed every header block in order.
///
/// Memory is bounded by what it is given: the dynamic table by the size limit set with
/// [`set_max_table_size`](Decoder::set_max_table_size) (our
/// `SETTINGS_HEADER_TABLE_SIZE`), a string by the bytes left in the block (8/5 of them
/// after Huffman decoding), and the returned list by
/// [`set_max_header_list_size`](Decoder::set_max_header_list_size).
///
/// ```
/// use httpstack::h2::hpack::{Decoder, Field};
///
/// // RFC 7541 C.2.4: an indexed field, `:method: GET`.
/// let mut decoder = Decoder::new();
/// assert_eq!(decoder.decode(&[0x82])?, vec![Field::new(":method", "GET")]);
/// # Ok::<(), httpstack::h2::hpack::DecoderError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// The most the peer's encoder may set the table to (our SETTINGS_HEADER_TABLE_SIZE).
    max_table_size: usize,
    max_header_list_size: usize,
    /// Where literal strings are decoded; reused, so its size is that of the largest
    /// field seen (bounded by the block).
    scratch: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with a 4,096-byte table and a 64 KiB header list bound.
    pub fn new() -> Decoder {
        Decoder {
            table: DynamicTable::new(DEFAULT_TABLE_SIZE),
            max_table_size: DEFAULT_TABLE_SIZE,
            max_header_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            scratch: Vec::new(),
        }
    }

    /// Sets the table size limit (our `SETTINGS_HEADER_TABLE_SIZE`, once acknowledged)
    /// and the table to that size.
    pub fn set_max_table_size(&mut self, size: usize) {
        // RFC 7541 §4.2: the peer's encoder must follow a change with a size update; the
        // table takes the new size now, which is what that update would set.
        self.max_table_size = size;
        self.table.set_max_size(size);
    }

    /// Sets the bound on a decoded list (our `SETTINGS_MAX_HEADER_LIST_SIZE`).
    pub fn set_max_header_list_size(&mut self, size: usize) {
        self.max_header_list_size = size;
    }

    /// The number of entries in the dynamic table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Decodes one complete header block (HEADERS or PUSH_PROMISE with its CONTINUATION
    /// fragments joined).
    ///
    /// # Errors
    ///
    /// A [`DecoderError`]; see [`DecoderError::is_connection_error`].
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<Field>, DecoderError> {
        let mut fields = Vec::with_capacity(16);
        let mut list_size = 0usize;
        let mut too_large = false;
        let mut pos = 0;
        let mut seen_field = false;
        while pos < block.len() {
            let start = pos;
            let byte = block[pos];
            let (field, index_it) = if byte & 0x80 != 0 {
                // §6.1 indexed field.
                let index = decode_int(block, &mut pos, 7)?;
                (self.entry(index, start)?, false)
            } else if byte & 0xe0 == 0x20 {
                // §6.3 dynamic table size update.
                if seen_field {
                    return Err(DecoderError::LateTableSizeUpdate(start));
                }
                let size = decode_int(block, &mut pos, 5)?;
                if size > self.max_table_size {
                    return Err(DecoderError::TableSizeTooLarge {
                        size,
                        max: self.max_table_size,
                    });
                }
                self.table.set_max_size(size);
                continue;
            } else {
                // §6.2: with incremental indexing (01, 6-bit index), without indexing
                // (0000, 4-bit) or never indexed (0001, 4-bit).
                let (prefix, index_it, sensitive) = if byte & 0xc0 == 0x40 {
                    (6, true, false)
                } else {
                    (4, false, byte & 0x10 != 0)
                };
                let index = decode_int(block, &mut pos, prefix)?;
                // Literal strings are decoded into the scratch buffer, then copied out
                // in one allocation that name and value share.
                self.scratch.clear();
                let name = if index == 0 {
                    self.string(block, &mut pos)?;
                    None
                } else {
                    Some(self.entry(index, start)?.name)
                };
                let name_len = self.scratch.len();
                self.string(block, &mut pos)?;
                let strings = Bytes::copy_from_slice(&self.scratch);
                let (name, value) = match name {
                    Some(name) => (name, strings),
                    None => (strings.slice(..name_len), strings.slice(name_len..)),
                };
                (
                    Field {
                        name,
                        value,
                        sensitive,
                    },
                    index_it,
                )
            };
            seen_field = true;
            if index_it {
                self.table
                    .insert(field.name.clone(), field.value.clone(), (0, 0));
            }
            if !too_large {
                list_size = list_size.saturating_add(field.size());
                if list_size > self.max_header_list_size {
                    // Keep going, so the table stays in step; stop keeping fields.
                    too_large = true;
                    fields = Vec::new();
                } else {
                    fields.push(field);
                }
            }
        }
        if too_large {
            return Err(DecoderError::HeaderListTooLarge {
                size: list_size,
                max: self.max_header_list_size,
            });
        }
        Ok(fields)
    }

    fn entry(&self, index: usize, at: usize) -> Result<Field, DecoderError> {
        let field = match index {
            0 => None,
            1..=61 => {
                let (n, v) = STATIC[index - 1];
                Some((
                    Bytes::from_static(n.as_bytes()),
                    Bytes::from_static(v.as_bytes()),
                ))
            }
            _ => self
                .table
                .get(index - 62)
                .map(|e| (e.name.clone(), e.value.clone())),
        };
        field
            .map(|(name, value)| Field {
                name,
                value,
                sensitive: false,
            })
            .ok_or(DecoderError::InvalidIndex { index, at })
    }

    /// Appends a string literal (§5.2: H bit, 7-bit-prefix length, octets) to the
    /// scratch buffer.
    fn string(&mut self, block: &[u8], pos: &mut usize) -> Result<(), DecoderError> {
        let start = *pos;
        let huffman = block.get(*pos).is_some_and(|b| b & 0x80 != 0);
        let len = decode_int(block, pos, 7)?;
        // The length is checked against what is left before anything is allocated.
        let end = pos
            .checked_add(len)
            .filter(|&end| end <= block.len())
            .ok_or(DecoderError::Truncated(start))?;
        let raw = &block[*pos..end];
        *pos = end;
        if huffman {
            huffman::decode(raw, &mut self.scratch)
                .map_err(|_: HuffmanError| DecoderError::Huffman(start))
        } else {
            self.scratch.extend_from_slice(raw);
            Ok(())
        }
    }
}

/// Decodes an integer with an `prefix`-bit prefix at `block[*pos]` (RFC 7541 §5.1).
/// Values above 2²⁸ are refused: no HPACK quantity (table sizes, string lengths bounded
/// by a frame) is legitimately that large, and the bound keeps arithmetic in range.
pub(super) fn decode_int(block: &[u8], pos: &mut usize, prefix: u8) -> Result<usize, DecoderError> {
    let start = *pos;
    let first = *block.get(*pos).ok_or(DecoderError::Truncated(start))?;
    *pos += 1;
    let max_prefix = (1usize << prefix) - 1;
    let mut value = first as usize & max_prefix;
    if value < max_prefix {
        return Ok(value);
    }
    let mut shift = 0u32;
    loop {
        let byte = *block.get(*pos).ok_or(DecoderError::Truncated(start))?;
        *pos += 1;
        value += ((byte & 0x7f) as usize) << shift;
        if value > 1 << 28 {
            return Err(DecoderError::IntegerOverflow(start));
        }
        if byte & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
        if shift > 28 {
            return Err(DecoderError::IntegerOverflow(start));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_blocks_are_typed_errors() {
        let cases: &[(&[u8], DecoderError)] = &[
            (&[0x80], DecoderError::InvalidIndex { index: 0, at: 0 }),
            (&[0xbe], DecoderError::InvalidIndex { index: 62, at: 0 }),
            (&[0xff], DecoderError::Truncated(0)),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                DecoderError::IntegerOverflow(0),
            ),
            (&[0x40, 0x05, b'a'], DecoderError::Truncated(1)),
            (
                &[0x40, 0x7f, 0xff, 0xff, 0xff, 0x7f],
                DecoderError::IntegerOverflow(1),
            ),
            (&[0x40, 0x81, 0x00, 0x00], DecoderError::Huffman(1)),
            (
                &[0x3f, 0xe2, 0x1f],
                DecoderError::TableSizeTooLarge {
                    size: 4097,
                    max: 4096,
                },
            ),
            (&[0x82, 0x20], DecoderError::LateTableSizeUpdate(1)),
            (&[0x00, 0x01, b'a'], DecoderError::Truncated(3)),
        ];
        for (block, err) in cases {
            assert_eq!(
                Decoder::new().decode(block).as_ref(),
                Err(err),
                "{block:x?}"
            );
            assert!(err.is_connection_error());
        }
    }

    #[test]
    fn header_list_bound_at_its_edge_keeps_the_table() {
        // `:method: GET` counts 7 + 3 + 32 = 42 bytes; with indexing `x: y` counts 34.
        let block = [0x82, 0x40, 0x01, b'x', 0x01, b'y'];
        let mut decoder = Decoder::new();
        decoder.set_max_header_list_size(76);
        assert_eq!(decoder.decode(&block).map(|f| f.len()), Ok(2));
        let mut decoder = Decoder::new();
        decoder.set_max_header_list_size(75);
        let err = decoder.decode(&block).unwrap_err();
        assert_eq!(err, DecoderError::HeaderListTooLarge { size: 76, max: 75 });
        assert!(!err.is_connection_error());
        // The refused block's insert happened: index 62 is `x: y`.
        decoder.set_max_header_list_size(1000);
        assert_eq!(decoder.decode(&[0xbe]), Ok(vec![Field::new("x", "y")]));
    }

    #[test]
    fn table_size_update_at_the_limit() {
        let mut decoder = Decoder::new();
        decoder.set_max_table_size(100);
        // 100 fits in 5 bits prefix as 31 + 69.
        assert_eq!(decoder.decode(&[0x3f, 69]), Ok(vec![]));
        assert_eq!(
            decoder.decode(&[0x3f, 70]),
            Err(DecoderError::TableSizeTooLarge {
                size: 101,
                max: 100
            })
        );
        // Two updates at the start are allowed (§4.2).
        assert_eq!(
            decoder.decode(&[0x20, 0x3f, 0x01, 0x82]).map(|f| f.len()),
            Ok(1)
        );
    }

    /// Every block of a valid sequence, split into a prefix: a decoder never panics on a
    /// truncated block and reports it as an error.
    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let block = super::super::tests::unhex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf");
        for cut in 0..block.len() {
            let mut decoder = Decoder::new();
            let _ = decoder.decode(&block[..cut]);
        }
    }
}
