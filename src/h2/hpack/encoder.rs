//! The HPACK encoder (RFC 7541 §6).

use bytes::{BufMut, BytesMut};

use super::huffman;
use super::table::{find_static, hash, pair_hash, DynamicTable, ENTRY_OVERHEAD};
use super::{Field, DEFAULT_TABLE_SIZE};

/// An HPACK encoder: one per connection, for every header block it sends, in order.
///
/// Strategy: an exact match in the static or dynamic table is sent as an index (§6.1);
/// anything else as a literal with incremental indexing (§6.2.1), its name indexed where
/// a table has it, except sensitive fields (never indexed, §6.2.3) and fields too large
/// to be worth a table slot (over three quarters of the table: they would evict
/// everything, so they go without indexing, §6.2.2). Strings are Huffman-coded when that
/// is not longer (§5.2). A table-size change from the peer's `SETTINGS_HEADER_TABLE_SIZE` is
/// signalled at the start of the next block, the smallest size first when it shrank and
/// grew in between (§4.2).
///
/// ```
/// use bytes::BytesMut;
/// use httpstack::h2::hpack::{Encoder, Field};
///
/// let mut encoder = Encoder::new();
/// let mut block = BytesMut::new();
/// encoder.encode(&[Field::new(":method", "GET"), Field::new(":path", "/")], &mut block);
/// assert_eq!(&block[..], &[0x82, 0x84]); // both in the static table
/// ```
#[derive(Debug)]
pub struct Encoder {
    table: DynamicTable,
    /// Table-size updates owed to the decoder: (smallest since the last block, latest).
    pending_update: Option<(usize, usize)>,
    huffman: bool,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

impl Encoder {
    /// An encoder with the initial 4,096-byte table (RFC 9113 §6.5.2).
    pub fn new() -> Encoder {
        Encoder::with_table_size(DEFAULT_TABLE_SIZE)
    }

    /// An encoder whose table starts at `size` bytes (a decoder that knows it, as in
    /// RFC 7541 C.5, needs no size update).
    pub fn with_table_size(size: usize) -> Encoder {
        Encoder {
            table: DynamicTable::indexed(size),
            pending_update: None,
            huffman: true,
        }
    }

    /// Whether to Huffman-code strings when shorter (default on).
    pub fn set_huffman(&mut self, on: bool) {
        self.huffman = on;
    }

    /// Applies the peer's `SETTINGS_HEADER_TABLE_SIZE`; the next block starts with the
    /// size updates this calls for.
    pub fn set_max_table_size(&mut self, size: usize) {
        let smallest = match self.pending_update {
            Some((smallest, _)) => smallest.min(size),
            None => size.min(self.table.max_size()),
        };
        self.pending_update = Some((smallest, size));
        self.table.set_max_size(size);
    }

    /// Appends the header block of `fields` to `dst`.
    pub fn encode<'a>(&mut self, fields: impl IntoIterator<Item = &'a Field>, dst: &mut BytesMut) {
        if let Some((smallest, latest)) = self.pending_update.take() {
            if smallest < latest {
                encode_int(smallest, 5, 0x20, dst);
            }
            encode_int(latest, 5, 0x20, dst);
        }
        for field in fields {
            self.encode_field(field, dst);
        }
    }

    fn encode_field(&mut self, field: &Field, dst: &mut BytesMut) {
        let (name, value) = (&field.name[..], &field.value[..]);
        let static_match = find_static(name, value);
        if !field.sensitive {
            if let Some((_, Some(index))) = static_match {
                encode_int(index, 7, 0x80, dst);
                return;
            }
        }
        let mut name_index = static_match.map(|(i, _)| i);
        let name_hash = hash(name);
        let pair = pair_hash(name_hash, hash(value));
        if !field.sensitive {
            if let Some(i) = self.table.find_pair(pair) {
                // A hash collision just means no index: the bytes decide.
                if self
                    .table
                    .get(i)
                    .is_some_and(|e| e.name == name && e.value == value)
                {
                    encode_int(62 + i, 7, 0x80, dst);
                    return;
                }
            }
        }
        if name_index.is_none() {
            if let Some(i) = self.table.find_name(name_hash) {
                if self.table.get(i).is_some_and(|e| e.name == name) {
                    name_index = Some(62 + i);
                }
            }
        }
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        let index_it = !field.sensitive && size * 4 <= self.table.max_size() * 3;
        let (prefix, pattern) = if field.sensitive {
            (4, 0x10)
        } else if index_it {
            (6, 0x40)
        } else {
            (4, 0x00)
        };
        match name_index {
            Some(index) => encode_int(index, prefix, pattern, dst),
            None => {
                dst.put_u8(pattern);
                self.encode_string(name, dst);
            }
        }
        self.encode_string(value, dst);
        if index_it {
            self.table
                .insert(field.name.clone(), field.value.clone(), (name_hash, pair));
        }
    }

    fn encode_string(&self, s: &[u8], dst: &mut BytesMut) {
        if self.huffman {
            let len = huffman::encoded_len(s);
            // Equal length goes Huffman too, as RFC 7541 C.6 does (`307`).
            if len <= s.len() && !s.is_empty() {
                dst.reserve(len + 5);
                encode_int(len, 7, 0x80, dst);
                huffman::encode(s, dst);
                return;
            }
        }
        encode_int(s.len(), 7, 0, dst);
        dst.extend_from_slice(s);
    }
}

/// Appends `value` with an `prefix`-bit prefix, the first byte's other bits `pattern`
/// (RFC 7541 §5.1).
pub(super) fn encode_int(mut value: usize, prefix: u8, pattern: u8, dst: &mut BytesMut) {
    let max_prefix = (1usize << prefix) - 1;
    if value < max_prefix {
        dst.put_u8(pattern | value as u8);
        return;
    }
    dst.put_u8(pattern | max_prefix as u8);
    value -= max_prefix;
    while value >= 128 {
        dst.put_u8((value % 128) as u8 | 0x80);
        value /= 128;
    }
    dst.put_u8(value as u8);
}
