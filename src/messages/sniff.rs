//! Content sniffing (HTTP.jl `sniff` and `isjson`).
//!
//! [`sniff`] runs the WHATWG MIME Sniffing Standard's signature table the way Go's
//! `net/http.DetectContentType` does (same signatures, same order, same 512-byte window),
//! with HTTP.jl's one addition: JSON is recognised just before the `text/plain` fallback.
//!
//! The JSON check is hand-written rather than serde_json because sniffing must neither
//! allocate nor build values, and must accept a document cut off by the 512-byte window.

/// The algorithm looks at no more than this many bytes (WHATWG MIME Sniffing §7).
const SNIFF_LEN: usize = 512;

/// One row of the signature table (WHATWG MIME Sniffing §6).
enum Sig {
    /// An HTML tag: case-insensitive after leading whitespace, then a space or `>`.
    Html(&'static [u8]),
    /// `data & mask == pattern` at the start (or after leading whitespace).
    Masked {
        mask: &'static [u8],
        pattern: &'static [u8],
        skip_ws: bool,
        mime: &'static str,
    },
    /// The data starts with these bytes.
    Exact(&'static [u8], &'static str),
    /// The ISO base media file `ftyp` box with an `mp4` brand (§6.2.1).
    Mp4,
    /// HTTP.jl's JSON signature.
    Json,
    /// No binary bytes (§7.1 step 4): `text/plain`.
    Text,
}

const fn masked(mask: &'static [u8], pattern: &'static [u8], mime: &'static str) -> Sig {
    Sig::Masked {
        mask,
        pattern,
        skip_ws: false,
        mime,
    }
}

/// 34 ignored bytes, then "LP" (the Embedded OpenType signature).
const EOT_MASK: [u8; 36] = {
    let mut mask = [0; 36];
    mask[34] = 0xFF;
    mask[35] = 0xFF;
    mask
};
const EOT_PATTERN: [u8; 36] = {
    let mut pattern = [0; 36];
    pattern[34] = b'L';
    pattern[35] = b'P';
    pattern
};

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Go's `sniffSignatures`, in Go's order, with HTTP.jl's JSON row before the text row.
static SIGNATURES: &[Sig] = &[
    Sig::Html(b"<!DOCTYPE HTML"),
    Sig::Html(b"<HTML"),
    Sig::Html(b"<HEAD"),
    Sig::Html(b"<SCRIPT"),
    Sig::Html(b"<IFRAME"),
    Sig::Html(b"<H1"),
    Sig::Html(b"<DIV"),
    Sig::Html(b"<FONT"),
    Sig::Html(b"<TABLE"),
    Sig::Html(b"<A"),
    Sig::Html(b"<STYLE"),
    Sig::Html(b"<TITLE"),
    Sig::Html(b"<B"),
    Sig::Html(b"<BODY"),
    Sig::Html(b"<BR"),
    Sig::Html(b"<P"),
    Sig::Html(b"<!--"),
    Sig::Masked {
        mask: b"\xFF\xFF\xFF\xFF\xFF",
        pattern: b"<?xml",
        skip_ws: true,
        mime: "text/xml; charset=utf-8",
    },
    Sig::Exact(b"%PDF-", "application/pdf"),
    Sig::Exact(b"%!PS-Adobe-", "application/postscript"),
    // Byte order marks.
    masked(
        b"\xFF\xFF\x00\x00",
        b"\xFE\xFF\x00\x00",
        "text/plain; charset=utf-16be",
    ),
    masked(
        b"\xFF\xFF\x00\x00",
        b"\xFF\xFE\x00\x00",
        "text/plain; charset=utf-16le",
    ),
    masked(
        b"\xFF\xFF\xFF\x00",
        b"\xEF\xBB\xBF\x00",
        "text/plain; charset=utf-8",
    ),
    // Images (§6.1).
    Sig::Exact(b"\x00\x00\x01\x00", "image/x-icon"),
    Sig::Exact(b"\x00\x00\x02\x00", "image/x-icon"),
    Sig::Exact(b"BM", "image/bmp"),
    Sig::Exact(b"GIF87a", "image/gif"),
    Sig::Exact(b"GIF89a", "image/gif"),
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF",
        b"RIFF\x00\x00\x00\x00WEBPVP",
        "image/webp",
    ),
    Sig::Exact(b"\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
    Sig::Exact(b"\xFF\xD8\xFF", "image/jpeg"),
    // Audio and video, in the order §6.2 prescribes.
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        b"FORM\x00\x00\x00\x00AIFF",
        "audio/aiff",
    ),
    masked(b"\xFF\xFF\xFF", b"ID3", "audio/mpeg"),
    masked(b"\xFF\xFF\xFF\xFF\xFF", b"OggS\x00", "application/ogg"),
    masked(
        b"\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
        b"MThd\x00\x00\x00\x06",
        "audio/midi",
    ),
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        b"RIFF\x00\x00\x00\x00AVI ",
        "video/avi",
    ),
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        b"RIFF\x00\x00\x00\x00WAVE",
        "audio/wave",
    ),
    Sig::Mp4,
    Sig::Exact(b"\x1A\x45\xDF\xA3", "video/webm"),
    // Fonts (§6.3).
    masked(&EOT_MASK, &EOT_PATTERN, "application/vnd.ms-fontobject"),
    Sig::Exact(b"\x00\x01\x00\x00", "font/ttf"),
    Sig::Exact(b"OTTO", "font/otf"),
    Sig::Exact(b"ttcf", "font/collection"),
    Sig::Exact(b"wOFF", "font/woff"),
    Sig::Exact(b"wOF2", "font/woff2"),
    // Archives (§6.4). RAR uses RAR Labs' signatures, as Go does (whatwg/mimesniff#63).
    Sig::Exact(b"\x1F\x8B\x08", "application/x-gzip"),
    Sig::Exact(b"PK\x03\x04", "application/zip"),
    Sig::Exact(b"Rar!\x1A\x07\x00", "application/x-rar-compressed"),
    Sig::Exact(b"Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
    Sig::Exact(b"\x00asm", "application/wasm"),
    Sig::Json,
    Sig::Text,
];

/// The MIME type of `data`, judged from its first 512 bytes (HTTP.jl `sniff`).
///
/// Always returns a valid MIME type, `"application/octet-stream"` when nothing more
/// specific fits. A JSON document longer than 512 bytes counts as JSON when its first 512
/// bytes are a valid beginning of one.
///
/// ```
/// use httpstack::messages::sniff;
///
/// assert_eq!(sniff(b"Hello world!!"), "text/plain; charset=utf-8");
/// assert_eq!(sniff(b"<html><body>Hello world!!</body></html>"), "text/html; charset=utf-8");
/// assert_eq!(sniff(br#"{"a": -1.0}"#), "application/json; charset=utf-8");
/// assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
/// assert_eq!(sniff(b"\x00\x01\x02"), "application/octet-stream");
/// ```
pub fn sniff(data: &[u8]) -> &'static str {
    let truncated = data.len() > SNIFF_LEN;
    let data = &data[..data.len().min(SNIFF_LEN)];
    let first_non_ws = data.iter().position(|&b| !is_ws(b)).unwrap_or(data.len());
    SIGNATURES
        .iter()
        .find_map(|sig| sig.matches(data, first_non_ws, truncated))
        .unwrap_or("application/octet-stream")
}

/// Whitespace bytes as the sniffing standard defines them (§3: 0x09, 0x0A, 0x0C, 0x0D, 0x20).
fn is_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

impl Sig {
    fn matches(&self, data: &[u8], first_non_ws: usize, truncated: bool) -> Option<&'static str> {
        match *self {
            Sig::Html(tag) => is_html_tag(&data[first_non_ws..], tag).then_some(HTML),
            Sig::Masked {
                mask,
                pattern,
                skip_ws,
                mime,
            } => {
                let data = if skip_ws { &data[first_non_ws..] } else { data };
                let found = data.len() >= pattern.len()
                    && mask
                        .iter()
                        .zip(pattern)
                        .zip(data)
                        .all(|((&m, &p), &d)| d & m == p);
                found.then_some(mime)
            }
            Sig::Exact(prefix, mime) => data.starts_with(prefix).then_some(mime),
            Sig::Mp4 => is_mp4(data).then_some("video/mp4"),
            Sig::Json => json::scan(data, truncated).then_some(JSON),
            Sig::Text => (!data[first_non_ws..].iter().any(|&b| is_binary(b))).then_some(TEXT),
        }
    }
}

/// The tag, letters compared ignoring case, then a tag-terminating byte (space or `>`).
fn is_html_tag(data: &[u8], tag: &[u8]) -> bool {
    data.len() > tag.len()
        && tag.iter().zip(data).all(|(&t, &d)| {
            // The table's letters are upper case: fold the data's letters to compare.
            t == if t.is_ascii_uppercase() { d & 0xDF } else { d }
        })
        && matches!(data[tag.len()], b' ' | b'>')
}

/// §7.1 step 4: the bytes that make a resource binary rather than text.
fn is_binary(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F)
}

/// §6.2.1 "signature for MP4".
fn is_mp4(data: &[u8]) -> bool {
    let [a, b, c, d, ..] = *data else {
        return false;
    };
    let box_size = u32::from_be_bytes([a, b, c, d]) as usize;
    if data.len() < 12
        || data.len() < box_size
        || !box_size.is_multiple_of(4)
        || &data[4..8] != b"ftyp"
    {
        return false;
    }
    // Brands are 4-byte words from offset 8; the one at 12 is the minor version number.
    (8..box_size)
        .step_by(4)
        .any(|at| at != 12 && data[at..].starts_with(b"mp4"))
}

/// Whether `data`, after leading and trailing whitespace, is exactly one JSON value
/// (RFC 8259) — HTTP.jl `isjson`, but strict: numbers, escapes, literals and UTF-8 are
/// all checked.
///
/// The check scans the bytes once and never allocates. Nesting deeper than 512 arrays or
/// objects is rejected.
///
/// ```
/// use httpstack::messages::is_json;
///
/// assert!(is_json(br#" {"a": [1, -2.5e3, true, null, "\u00e9"]} "#));
/// assert!(is_json(b"42"));
/// assert!(!is_json(b"{'a': 1}"));
/// assert!(!is_json(b"[1, 2"));
/// assert!(!is_json(b""));
/// ```
pub fn is_json(data: &[u8]) -> bool {
    json::scan(data, false)
}

mod json {
    /// Deeper documents are rejected: the nesting is tracked in a fixed bit stack.
    const MAX_DEPTH: usize = 512;

    /// Why scanning stopped short of a complete document.
    enum Stop {
        /// The input ended inside the document.
        End,
        /// A byte that the grammar does not allow.
        Invalid,
    }

    /// Whether `data` holds one JSON value; with `truncated`, also a valid beginning of one
    /// (the data is a window cut out of a longer body).
    pub(super) fn scan(data: &[u8], truncated: bool) -> bool {
        // RFC 8259 §8.1: JSON text is UTF-8. A character cut in half at the end of a
        // truncated window is not an error.
        let data = match std::str::from_utf8(data) {
            Ok(_) => data,
            Err(e) if truncated && e.error_len().is_none() => &data[..e.valid_up_to()],
            Err(_) => return false,
        };
        let mut scanner = Scanner { data, pos: 0 };
        scanner.skip_ws();
        if scanner.pos == data.len() {
            return false;
        }
        match scanner.document() {
            Ok(()) => true,
            Err(Stop::End) => truncated,
            Err(Stop::Invalid) => false,
        }
    }

    struct Scanner<'a> {
        data: &'a [u8],
        pos: usize,
    }

    impl Scanner<'_> {
        fn peek(&self) -> Option<u8> {
            self.data.get(self.pos).copied()
        }

        fn next(&mut self) -> Result<u8, Stop> {
            let b = self.peek().ok_or(Stop::End)?;
            self.pos += 1;
            Ok(b)
        }

        fn expect(&mut self, want: u8) -> Result<(), Stop> {
            if self.next()? == want {
                Ok(())
            } else {
                Err(Stop::Invalid)
            }
        }

        /// RFC 8259 §2: insignificant whitespace is space, tab, LF and CR.
        fn skip_ws(&mut self) {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
                self.pos += 1;
            }
        }

        /// One value followed only by whitespace. Containers are tracked on a bit stack
        /// (1 = object) instead of recursion, so hostile nesting cannot overflow the stack.
        fn document(&mut self) -> Result<(), Stop> {
            let mut stack = [0u64; MAX_DEPTH / 64];
            let mut depth = 0;
            'value: loop {
                self.skip_ws();
                match self.next()? {
                    open @ (b'{' | b'[') => {
                        if depth == MAX_DEPTH {
                            return Err(Stop::Invalid);
                        }
                        self.skip_ws();
                        let close = if open == b'{' { b'}' } else { b']' };
                        if self.peek() == Some(close) {
                            self.pos += 1;
                        } else {
                            let (word, bit) = (depth / 64, 1u64 << (depth % 64));
                            if open == b'{' {
                                stack[word] |= bit;
                                self.key()?;
                            } else {
                                stack[word] &= !bit;
                            }
                            depth += 1;
                            continue 'value;
                        }
                    }
                    b'"' => self.string()?,
                    b'-' | b'0'..=b'9' => {
                        self.pos -= 1;
                        self.number()?;
                    }
                    b't' => self.literal(b"rue")?,
                    b'f' => self.literal(b"alse")?,
                    b'n' => self.literal(b"ull")?,
                    _ => return Err(Stop::Invalid),
                }
                // A value is complete: close the containers it completes, or go on to the
                // next member or element.
                loop {
                    self.skip_ws();
                    if depth == 0 {
                        return match self.peek() {
                            None => Ok(()),
                            Some(_) => Err(Stop::Invalid),
                        };
                    }
                    let in_object = stack[(depth - 1) / 64] & (1 << ((depth - 1) % 64)) != 0;
                    match (self.next()?, in_object) {
                        (b',', true) => {
                            self.key()?;
                            continue 'value;
                        }
                        (b',', false) => continue 'value,
                        (b'}', true) | (b']', false) => depth -= 1,
                        _ => return Err(Stop::Invalid),
                    }
                }
            }
        }

        /// An object member's name and the colon after it.
        fn key(&mut self) -> Result<(), Stop> {
            self.skip_ws();
            self.expect(b'"')?;
            self.string()?;
            self.skip_ws();
            self.expect(b':')
        }

        /// The rest of a string after its opening quote (RFC 8259 §7).
        fn string(&mut self) -> Result<(), Stop> {
            loop {
                match self.next()? {
                    b'"' => return Ok(()),
                    b'\\' => match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            for _ in 0..4 {
                                if !self.next()?.is_ascii_hexdigit() {
                                    return Err(Stop::Invalid);
                                }
                            }
                        }
                        _ => return Err(Stop::Invalid),
                    },
                    0x00..=0x1F => return Err(Stop::Invalid),
                    _ => {}
                }
            }
        }

        /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        fn number(&mut self) -> Result<(), Stop> {
            if self.peek() == Some(b'-') {
                self.pos += 1;
            }
            match self.next()? {
                b'0' => {}
                b'1'..=b'9' => self.digits(),
                _ => return Err(Stop::Invalid),
            }
            if self.peek() == Some(b'.') {
                self.pos += 1;
                self.digit()?;
                self.digits();
            }
            if let Some(b'e' | b'E') = self.peek() {
                self.pos += 1;
                if let Some(b'+' | b'-') = self.peek() {
                    self.pos += 1;
                }
                self.digit()?;
                self.digits();
            }
            Ok(())
        }

        fn digit(&mut self) -> Result<(), Stop> {
            if self.next()?.is_ascii_digit() {
                Ok(())
            } else {
                Err(Stop::Invalid)
            }
        }

        fn digits(&mut self) {
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
        }

        fn literal(&mut self, rest: &[u8]) -> Result<(), Stop> {
            for &want in rest {
                self.expect(want)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `net/http` sniff tests, plus HTTP.jl's JSON cases.
    const CASES: &[(&[u8], &str)] = &[
        // HTTP.jl's documented examples.
        (b"Hello world!!", TEXT),
        (b"<html><body>Hello world!!</body></html>", HTML),
        (br#"{"a": -1.0}"#, JSON),
        // Text and HTML (Go: "Empty", "Binary", "HTML document #1"...).
        (b"", TEXT),
        (b"   \n\t", TEXT),
        (b"\x01\x02\x03", "application/octet-stream"),
        (b"<HtMl><bOdY>blah blah blah</body></html>", HTML),
        (b"<HTML></HTML>", HTML),
        (b"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">", HTML),
        (b"   <!doctype html><p>x", HTML),
        (b"\n<html>", HTML),
        (b"<!-- comment -->", HTML),
        (b"<p>paragraph</p>", HTML),
        (b"<br>", HTML),
        (b"<html", TEXT),
        (b"<htmlx>", TEXT),
        (b"<?xml version=\"1.0\"?><r/>", "text/xml; charset=utf-8"),
        (b"  \n<?xml version=\"1.0\"?>", "text/xml; charset=utf-8"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"%!PS-Adobe-3.0", "application/postscript"),
        // Byte order marks.
        (b"\xFE\xFF\x00\x41", "text/plain; charset=utf-16be"),
        (b"\xFF\xFE\x41\x00", "text/plain; charset=utf-16le"),
        (b"\xEF\xBB\xBFhello", "text/plain; charset=utf-8"),
        // Images.
        (b"\x00\x00\x01\x00\x01\x00", "image/x-icon"),
        (b"\x00\x00\x02\x00", "image/x-icon"),
        (b"BMxxxx", "image/bmp"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a...", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x89PNG\x0D\x0A\x1A\x0A\x00\x00", "image/png"),
        (b"\xFF\xD8\xFF\xE0\x00\x10JFIF", "image/jpeg"),
        // Audio and video.
        (b"FORM\x00\x00\x00\x00AIFFCOMM", "audio/aiff"),
        (b"ID3\x03\x00\x00\x00", "audio/mpeg"),
        (b"OggS\x00\x02\x00\x00", "application/ogg"),
        (b"MThd\x00\x00\x00\x06\x00\x01", "audio/midi"),
        (b"RIFF,O\n\x00AVI LIST\xC0", "video/avi"),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "audio/wave"),
        (
            b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat",
            "video/mp4",
        ),
        (b"\x1A\x45\xDF\xA3\x01\x00", "video/webm"),
        // Fonts.
        (
            b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00LP",
            "application/vnd.ms-fontobject",
        ),
        (b"\x00\x01\x00\x00\x00\x0F", "font/ttf"),
        (b"OTTO\x00\x0A", "font/otf"),
        (b"ttcf\x00\x01\x00\x00", "font/collection"),
        (b"wOFF\x00\x01\x00\x00", "font/woff"),
        (b"wOF2\x00\x01\x00\x00", "font/woff2"),
        // Archives and wasm.
        (b"\x1F\x8B\x08\x00", "application/x-gzip"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"Rar!\x1A\x07\x00", "application/x-rar-compressed"),
        (b"Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
        (b"\x00asm\x01\x00\x00\x00", "application/wasm"),
        // JSON (HTTP.jl): before the text row, after everything else.
        (b"[1, 2, 3]", JSON),
        (b"  \"a string\"  ", JSON),
        (b"42", JSON),
        (b"true", JSON),
        (b"null", JSON),
        (b"{\"a\": }", TEXT),
        (b"{'a': 1}", TEXT),
        (b"[1, 2", TEXT),
        (b"tru", TEXT),
    ];

    #[test]
    fn signature_table() {
        for (input, expected) in CASES {
            assert_eq!(
                sniff(input),
                *expected,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn only_the_first_512_bytes_count() {
        let mut text = vec![b'a'; 512];
        text.push(0x01);
        assert_eq!(sniff(&text), TEXT);
        text[511] = 0x01;
        assert_eq!(sniff(&text), "application/octet-stream");
    }

    #[test]
    fn long_json_is_judged_by_its_beginning() {
        let long = format!("[{}1]", "1, ".repeat(400));
        assert!(long.len() > SNIFF_LEN);
        assert_eq!(sniff(long.as_bytes()), JSON);
        // A character cut in half by the window does not spoil it.
        let cut = format!("[\"{}é{}\"]", "x".repeat(509), "y".repeat(10));
        assert_eq!(cut.as_bytes()[511], 0xC3);
        assert_eq!(sniff(cut.as_bytes()), JSON);
        // An error inside the window still does.
        let bad = format!("[1, 2 3, {}]", "4, ".repeat(300));
        assert_eq!(sniff(bad.as_bytes()), TEXT);
    }

    #[test]
    fn json_validity() {
        const VALID: &[&str] = &[
            "0",
            "-0",
            "-1.5e+10",
            "1E-2",
            "\"\"",
            "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00E9\"",
            "\"é ✓\"",
            "[]",
            "{}",
            " [ ] ",
            "[[], {}, [[]]]",
            r#"{"a": {"b": [1, {"c": null}]}, "d": false}"#,
            "\r\n\t{\"a\":1}\r\n",
        ];
        const INVALID: &[&str] = &[
            "",
            "   ",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "0x10",
            "NaN",
            "\"unterminated",
            "\"bad \\x escape\"",
            "\"\\u12G4\"",
            "\"tab\there\"",
            "[1,]",
            "[,1]",
            "{\"a\" 1}",
            "{\"a\": 1,}",
            "{1: 2}",
            "[1] [2]",
            "[}",
            "{]",
            "nul",
            "truex",
            "\u{a0}1",
        ];
        for doc in VALID {
            assert!(is_json(doc.as_bytes()), "should be JSON: {doc:?}");
        }
        for doc in INVALID {
            assert!(!is_json(doc.as_bytes()), "should not be JSON: {doc:?}");
        }
        assert!(!is_json(b"\"\xFF\""), "invalid UTF-8");
    }

    #[test]
    fn json_nesting_limit() {
        let ok = format!("{}{}", "[".repeat(512), "]".repeat(512));
        assert!(is_json(ok.as_bytes()));
        let deep = format!("{}{}", "[".repeat(513), "]".repeat(513));
        assert!(!is_json(deep.as_bytes()));
        let deep = format!("{}1{}", "[".repeat(513), "]".repeat(513));
        assert!(!is_json(deep.as_bytes()));
        let objects = format!("{}1{}", "{\"a\":".repeat(300), "}".repeat(300));
        assert!(is_json(objects.as_bytes()));
        // Hostile input: no stack overflow, no panic.
        assert!(!is_json("[".repeat(1_000_000).as_bytes()));
    }
}
