//! The static Huffman code of RFC 7541 §5.2 and Appendix B.
//!
//! Encoding packs codes into a 64-bit accumulator written 32 bits at a time. Decoding
//! walks the code tree a byte at a time through a table built once from [`CODES`] (256
//! tree states × 256 bytes, 256 KiB): the shortest code is 5 bits, so a byte completes at
//! most two symbols. The table is derived, not typed in, so the only hand-copied data is
//! Appendix B itself.

use std::sync::OnceLock;

use bytes::{BufMut, BytesMut};

use super::huffman_table::CODES;

const EOS: u16 = 256;

/// The encoded length in bytes of `src`.
pub(super) fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src.iter().map(|&b| CODES[b as usize].1 as usize).sum();
    bits.div_ceil(8)
}

/// Appends the Huffman code of `src` to `dst`, padded with the most significant bits of
/// EOS (all ones), as §5.2 requires.
/// The caller reserves [`encoded_len`] bytes first.
pub(super) fn encode(src: &[u8], dst: &mut BytesMut) {
    // At most 31 bits wait in the accumulator between writes, plus a 30-bit code: 61.
    let mut acc: u64 = 0;
    let mut n: u32 = 0;
    for &b in src {
        let (code, len) = CODES[b as usize];
        acc = (acc << len) | u64::from(code);
        n += u32::from(len);
        if n >= 32 {
            n -= 32;
            dst.put_u32((acc >> n) as u32);
            acc &= (1u64 << n) - 1;
        }
    }
    while n >= 8 {
        n -= 8;
        dst.put_u8((acc >> n) as u8);
    }
    if n > 0 {
        let pad = 8 - n;
        dst.put_u8(((acc << pad) | ((1 << pad) - 1)) as u8);
    }
}

/// Why a Huffman string is invalid (RFC 7541 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HuffmanError {
    /// The EOS symbol inside the string.
    Eos,
    /// Padding longer than 7 bits or not a prefix of EOS.
    Padding,
}

/// One decoding step: from a tree state, one input byte. Codes are at least 5 bits, so
/// 8 bits complete at most two symbols.
#[derive(Clone, Copy, Default)]
struct Step {
    next: u8,
    /// Symbols completed (0..=2) in the low bits; [`FAIL`] alone when EOS was reached.
    count: u8,
    syms: [u8; 2],
}

const FAIL: u8 = 0x10;

struct DecodeTable {
    /// 256 states × 256 input bytes.
    steps: Vec<Step>,
    /// Whether ending in this state is valid padding.
    accepting: [bool; 256],
}

fn table() -> &'static DecodeTable {
    static TABLE: OnceLock<DecodeTable> = OnceLock::new();
    TABLE.get_or_init(build)
}

fn build() -> DecodeTable {
    // The code tree: internal nodes hold two children; a child >= 0 is an internal node,
    // a child < 0 is the leaf of symbol -(child + 1).
    let mut nodes: Vec<[i32; 2]> = vec![[0, 0]];
    let mut ones_depth: Vec<Option<u8>> = vec![Some(0)];
    let symbols = CODES
        .iter()
        .enumerate()
        .map(|(sym, &(code, len))| (sym as u16, code, len))
        .chain(std::iter::once((EOS, 0x3fff_ffff, 30)));
    for (sym, code, len) in symbols {
        let mut cur = 0usize;
        for i in (0..len).rev() {
            let bit = ((code >> i) & 1) as usize;
            if i == 0 {
                nodes[cur][bit] = -(i32::from(sym) + 1);
            } else {
                if nodes[cur][bit] == 0 {
                    nodes.push([0, 0]);
                    let depth = ones_depth[cur].filter(|_| bit == 1).map(|d| d + 1);
                    ones_depth.push(depth);
                    nodes[cur][bit] = (nodes.len() - 1) as i32;
                }
                cur = nodes[cur][bit] as usize;
            }
        }
    }
    debug_assert_eq!(nodes.len(), 256, "a full binary tree of 257 leaves");
    let mut steps = vec![Step::default(); nodes.len() * 256];
    let mut accepting = [false; 256];
    for state in 0..nodes.len() {
        accepting[state] = ones_depth[state].is_some_and(|d| d <= 7);
        for byte in 0..=255u8 {
            let mut cur = state;
            let mut step = Step::default();
            for i in (0..8).rev() {
                let child = nodes[cur][((byte >> i) & 1) as usize];
                if child >= 0 {
                    cur = child as usize;
                } else {
                    let sym = -(child + 1);
                    if sym == i32::from(EOS) {
                        step.count = FAIL;
                        break;
                    }
                    step.syms[step.count as usize] = sym as u8;
                    step.count += 1;
                    cur = 0;
                }
            }
            step.next = cur as u8;
            steps[state * 256 + byte as usize] = step;
        }
    }
    DecodeTable { steps, accepting }
}

/// Appends the decoded form of the Huffman string `src` to `dst`.
pub(super) fn decode(src: &[u8], dst: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let table = table();
    // Every code is at least 5 bits: the output is at most 8/5 of the input. Both symbol
    // slots of a step are written each time and the length moves by the count, which
    // keeps the loop free of branches on the data (2 bytes of slack for the last write).
    let start = dst.len();
    dst.resize(start + src.len() * 8 / 5 + 2, 0);
    let out = &mut dst[start..];
    let mut len = 0usize;
    let mut state = 0usize;
    let mut failed = false;
    for &byte in src {
        let step = table.steps[state * 256 + byte as usize];
        failed |= step.count == FAIL;
        out[len] = step.syms[0];
        out[len + 1] = step.syms[1];
        len += usize::from(step.count & 3);
        state = step.next as usize;
    }
    let accepting = table.accepting[state];
    dst.truncate(start + len);
    if failed {
        Err(HuffmanError::Eos)
    } else if accepting {
        Ok(())
    } else {
        Err(HuffmanError::Padding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_octet_roundtrips() {
        let all: Vec<u8> = (0..=255).collect();
        for len in [0, 1, 2, 7, 255, 256] {
            let src: Vec<u8> = all.iter().cycle().take(len).copied().collect();
            let mut enc = BytesMut::new();
            encode(&src, &mut enc);
            assert_eq!(enc.len(), encoded_len(&src));
            let mut dec = Vec::new();
            decode(&enc, &mut dec).unwrap();
            assert_eq!(dec, src);
        }
    }

    #[test]
    fn rfc7541_c4_strings() {
        let cases: &[(&str, &str)] = &[
            ("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"),
            ("no-cache", "a8eb10649cbf"),
            ("custom-key", "25a849e95ba97d7f"),
            ("custom-value", "25a849e95bb8e8b4bf"),
        ];
        for (text, hex) in cases {
            let mut enc = BytesMut::new();
            encode(text.as_bytes(), &mut enc);
            assert_eq!(super::super::tests::hex(&enc), *hex, "{text}");
        }
    }

    #[test]
    fn bad_padding_and_eos_are_errors() {
        // 'a' is 00011 (5 bits): padding with zeros is not a prefix of EOS.
        let cases: &[(&[u8], HuffmanError)] = &[
            (&[0b0001_1000], HuffmanError::Padding),
            // A whole byte of padding (8 one-bits) is too long.
            (&[0b0001_1111, 0xff], HuffmanError::Padding),
            // EOS itself (30 ones) inside the string.
            (&[0xff, 0xff, 0xff, 0xfc], HuffmanError::Eos),
        ];
        for (src, err) in cases {
            assert_eq!(decode(src, &mut Vec::new()), Err(*err), "{src:?}");
        }
        let mut out = Vec::new();
        decode(&[0b0001_1111], &mut out).unwrap();
        assert_eq!(out, b"a");
    }
}
