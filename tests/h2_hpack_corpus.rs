//! `httpstack::h2::hpack` against the hpack-test-case corpus (`../shared/hpack-test-case`
//! beside the repository): every story of every implementation folder decodes to its
//! header lists, and every `raw-data` story encodes with our encoder and decodes back,
//! whole and with the table shrunk. Under `CI=true` a missing corpus fails the test.

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use httpstack::h2::hpack::{Decoder, Encoder, Field};
use serde_json::Value;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/hpack-test-case");
    if dir.join("raw-data").is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!(
            "hpack-test-case corpus missing at {} under CI=true",
            dir.display()
        );
    }
    eprintln!("skipping: no hpack-test-case corpus at {}", dir.display());
    None
}

fn stories(dir: &Path) -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read story");
            let json =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, json)
        })
        .collect()
}

fn headers_of(case: &Value) -> Vec<Field> {
    case["headers"]
        .as_array()
        .expect("headers array")
        .iter()
        .flat_map(|h| {
            h.as_object()
                .expect("header object")
                .iter()
                .map(|(n, v)| Field::new(n, v.as_str().expect("string value")))
        })
        .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Compares names and values (the corpus does not record never-indexed).
fn plain(fields: Vec<Field>) -> Vec<(Vec<u8>, Vec<u8>)> {
    fields
        .into_iter()
        .map(|f| (f.name.to_vec(), f.value.to_vec()))
        .collect()
}

#[test]
fn decode_every_implementation_story() {
    let Some(root) = corpus() else { return };
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("read corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir() && !p.ends_with("raw-data"))
        .collect();
    folders.sort();
    assert!(
        !folders.is_empty(),
        "no implementation folders in {}",
        root.display()
    );
    let mut cases = 0;
    for folder in &folders {
        for (path, story) in stories(folder) {
            let mut decoder = Decoder::new();
            decoder.set_max_header_list_size(1 << 20);
            for (i, case) in story["cases"].as_array().expect("cases").iter().enumerate() {
                if let Some(size) = case.get("header_table_size").and_then(Value::as_u64) {
                    decoder.set_max_table_size(size as usize);
                }
                let wire = unhex(case["wire"].as_str().expect("wire"));
                let got = decoder
                    .decode(&wire)
                    .unwrap_or_else(|e| panic!("{} case {i}: {e}", path.display()));
                assert_eq!(
                    plain(got),
                    plain(headers_of(case)),
                    "{} case {i}",
                    path.display()
                );
                cases += 1;
            }
        }
    }
    eprintln!(
        "decoded {cases} blocks from {} implementations",
        folders.len()
    );
    assert!(cases > 1000);
}

#[test]
fn encode_every_raw_story_and_decode_it_back() {
    let Some(root) = corpus() else { return };
    let mut cases = 0;
    let (mut raw_bytes, mut wire_bytes) = (0usize, 0usize);
    for table_size in [4096usize, 256, 0] {
        for (path, story) in stories(&root.join("raw-data")) {
            let mut encoder = Encoder::new();
            let mut decoder = Decoder::new();
            decoder.set_max_header_list_size(1 << 20);
            if table_size != 4096 {
                encoder.set_max_table_size(table_size);
                decoder.set_max_table_size(table_size);
            }
            for (i, case) in story["cases"].as_array().expect("cases").iter().enumerate() {
                let fields = headers_of(case);
                let mut block = BytesMut::new();
                encoder.encode(&fields, &mut block);
                if table_size == 4096 {
                    raw_bytes += fields
                        .iter()
                        .map(|f| f.name.len() + f.value.len())
                        .sum::<usize>();
                    wire_bytes += block.len();
                }
                let got = decoder.decode(&block).unwrap_or_else(|e| {
                    panic!("{} case {i} table {table_size}: {e}", path.display())
                });
                assert_eq!(
                    got,
                    fields,
                    "{} case {i} table {table_size}",
                    path.display()
                );
                cases += 1;
            }
        }
    }
    eprintln!("encoded {cases} lists; {raw_bytes} bytes of names and values became {wire_bytes}");
    assert!(
        wire_bytes * 3 < raw_bytes,
        "compression should at least triple"
    );
}
