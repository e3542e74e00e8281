//! The static table (RFC 7541 Appendix A) and the dynamic table (§2.3.2, §4).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use bytes::Bytes;

/// RFC 7541 Appendix A, indices 1..=61.
#[rustfmt::skip]
pub(super) const STATIC: [(&str, &str); 61] = [
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
    (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
    (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
    ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
    ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
    ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
];

/// The static-table match for `name`: `(name index, exact index)`, where the exact index
/// is set when `value` is in the table too.
pub(super) fn find_static(name: &[u8], value: &[u8]) -> Option<(usize, Option<usize>)> {
    // A match on the name picks the table's run of entries for it; the values are then
    // compared within that run only.
    let (first, count) = match name {
        b":authority" => (1, 1),
        b":method" => (2, 2),
        b":path" => (4, 2),
        b":scheme" => (6, 2),
        b":status" => (8, 7),
        b"accept-charset" => (15, 1),
        b"accept-encoding" => (16, 1),
        b"accept-language" => (17, 1),
        b"accept-ranges" => (18, 1),
        b"accept" => (19, 1),
        b"access-control-allow-origin" => (20, 1),
        b"age" => (21, 1),
        b"allow" => (22, 1),
        b"authorization" => (23, 1),
        b"cache-control" => (24, 1),
        b"content-disposition" => (25, 1),
        b"content-encoding" => (26, 1),
        b"content-language" => (27, 1),
        b"content-length" => (28, 1),
        b"content-location" => (29, 1),
        b"content-range" => (30, 1),
        b"content-type" => (31, 1),
        b"cookie" => (32, 1),
        b"date" => (33, 1),
        b"etag" => (34, 1),
        b"expect" => (35, 1),
        b"expires" => (36, 1),
        b"from" => (37, 1),
        b"host" => (38, 1),
        b"if-match" => (39, 1),
        b"if-modified-since" => (40, 1),
        b"if-none-match" => (41, 1),
        b"if-range" => (42, 1),
        b"if-unmodified-since" => (43, 1),
        b"last-modified" => (44, 1),
        b"link" => (45, 1),
        b"location" => (46, 1),
        b"max-forwards" => (47, 1),
        b"proxy-authenticate" => (48, 1),
        b"proxy-authorization" => (49, 1),
        b"range" => (50, 1),
        b"referer" => (51, 1),
        b"refresh" => (52, 1),
        b"retry-after" => (53, 1),
        b"server" => (54, 1),
        b"set-cookie" => (55, 1),
        b"strict-transport-security" => (56, 1),
        b"transfer-encoding" => (57, 1),
        b"user-agent" => (58, 1),
        b"vary" => (59, 1),
        b"via" => (60, 1),
        b"www-authenticate" => (61, 1),
        _ => return None,
    };
    let exact = (first..first + count).find(|&i| {
        let v = STATIC[i - 1].1;
        !v.is_empty() && v.as_bytes() == value
    });
    Some((first, exact))
}

/// The per-entry overhead of §4.1.
pub(super) const ENTRY_OVERHEAD: usize = 32;

/// A fast hash of a name or value (FxHash's mixing, 8 bytes a step): the encoder finds
/// table entries by hash, then checks the bytes.
pub(super) fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h
}

/// The hash of a (name, value) pair from the two hashes.
pub(super) fn pair_hash(name: u64, value: u64) -> u64 {
    (name.rotate_left(17) ^ value).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Keys are hashes already: the map uses them as they are.
#[derive(Default)]
pub(super) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashIndex = HashMap<u64, u64, BuildHasherDefault<IdentityHasher>>;

/// One dynamic table entry.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) name: Bytes,
    pub(super) value: Bytes,
    /// `(name hash, pair hash)` in an encoder's table; zeros in a decoder's.
    hashes: (u64, u64),
}

/// A dynamic table: newest entry first (index 62 in the combined index space).
///
/// An encoder's table also keeps two hash indexes (name → newest entry with it, pair →
/// newest entry with it) by insertion number, so a lookup costs one probe rather than a
/// scan of every entry; a decoder's table has none.
pub(super) struct DynamicTable {
    entries: VecDeque<Entry>,
    size: usize,
    max_size: usize,
    indexed: bool,
    /// Insertion number of the next entry; entry `i` (0 = newest) has `inserted - 1 - i`.
    inserted: u64,
    by_name: HashIndex,
    by_pair: HashIndex,
}

impl std::fmt::Debug for DynamicTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicTable")
            .field("entries", &self.entries.len())
            .field("size", &self.size)
            .field("max_size", &self.max_size)
            .finish()
    }
}

impl DynamicTable {
    /// A decoder's table.
    pub(super) fn new(max_size: usize) -> DynamicTable {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
            indexed: false,
            inserted: 0,
            by_name: HashIndex::default(),
            by_pair: HashIndex::default(),
        }
    }

    /// An encoder's table, with hash indexes.
    pub(super) fn indexed(max_size: usize) -> DynamicTable {
        DynamicTable {
            indexed: true,
            ..DynamicTable::new(max_size)
        }
    }

    pub(super) fn max_size(&self) -> usize {
        self.max_size
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry at dynamic index `i` (0 = newest).
    pub(super) fn get(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i)
    }

    fn index_of(&self, seq: Option<&u64>) -> Option<usize> {
        let seq = *seq?;
        let i = usize::try_from(self.inserted.checked_sub(seq + 1)?).ok()?;
        (i < self.entries.len()).then_some(i)
    }

    /// The newest entry with this name hash (encoder tables only).
    pub(super) fn find_name(&self, name_hash: u64) -> Option<usize> {
        self.index_of(self.by_name.get(&name_hash))
    }

    /// The newest entry with this pair hash (encoder tables only).
    pub(super) fn find_pair(&self, pair_hash: u64) -> Option<usize> {
        self.index_of(self.by_pair.get(&pair_hash))
    }

    /// §4.3: a new maximum evicts from the end until the table fits.
    pub(super) fn set_max_size(&mut self, max: usize) {
        self.max_size = max;
        self.evict_to(max);
    }

    /// §4.4: adding evicts first; an entry larger than the table empties it and is not
    /// added. `hashes` is `(name hash, pair hash)` for an encoder's table.
    pub(super) fn insert(&mut self, name: Bytes, value: Bytes, hashes: (u64, u64)) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            self.evict_to(0);
            return;
        }
        self.evict_to(self.max_size - size);
        self.size += size;
        if self.indexed {
            self.by_name.insert(hashes.0, self.inserted);
            self.by_pair.insert(hashes.1, self.inserted);
        }
        self.inserted += 1;
        self.entries.push_front(Entry {
            name,
            value,
            hashes,
        });
    }

    fn evict_to(&mut self, limit: usize) {
        while self.size > limit {
            let oldest = self.inserted - self.entries.len() as u64;
            let Some(e) = self.entries.pop_back() else {
                self.size = 0;
                break;
            };
            self.size -= e.name.len() + e.value.len() + ENTRY_OVERHEAD;
            if self.indexed {
                // Only if the index still names this entry (a newer one may have taken it).
                if self.by_name.get(&e.hashes.0) == Some(&oldest) {
                    self.by_name.remove(&e.hashes.0);
                }
                if self.by_pair.get(&e.hashes.1) == Some(&oldest) {
                    self.by_pair.remove(&e.hashes.1);
                }
            }
        }
    }
}
