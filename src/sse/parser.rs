//! [`SseParser`]: the `text/event-stream` parser, incremental over arbitrary chunk
//! boundaries, following WHATWG HTML §9.2.6 "Interpreting an event stream".
//!
//! Hand-written because the crates that parse SSE either own the HTTP exchange or skip
//! parts of the rules (BOM, lone CR, NUL in `id`, `retry` digits only) and have no limits;
//! this one is a small state machine over bytes, with memchr for the line scan.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::sse::SseEvent;

/// The default longest line (1 MiB): a longer line is an [`SseParseError::LineTooLong`].
pub const DEFAULT_MAX_LINE: usize = 1024 * 1024;

/// The default largest event (16 MiB, HTTP.jl's `max_len`): the bytes of all the fields
/// of one event; more is an [`SseParseError::EventTooLarge`].
pub const DEFAULT_MAX_EVENT: usize = 16 * 1024 * 1024;

/// Why a `text/event-stream` could not be parsed. The stream yields it as the source of an
/// [`httpstack::Error`](crate::Error) of kind [`ErrorKind::Body`](crate::ErrorKind::Body);
/// find it with `err.source().and_then(|e| e.downcast_ref::<SseParseError>())`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseParseError {
    /// A line was longer than the limit (bytes, without its line end).
    #[error("an SSE line is longer than the limit of {limit} bytes")]
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// One event's fields added up to more than the limit.
    #[error("an SSE event is larger than the limit of {limit} bytes")]
    EventTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// An incremental `text/event-stream` parser (WHATWG HTML §9.2.6).
///
/// Feed it the body in chunks cut anywhere, then take the dispatched events:
///
/// ```
/// use httpstack::sse::SseParser;
///
/// let mut parser = SseParser::new();
/// parser.feed(b"\xEF\xBB\xBFid: 1\r\ndata: hel").unwrap();
/// assert!(parser.next_event().is_none());
/// parser.feed(b"lo\r\n\r\n").unwrap();
/// let event = parser.next_event().unwrap();
/// assert_eq!((event.data.as_str(), event.id.as_deref()), ("hello", Some("1")));
/// ```
#[derive(Debug)]
pub struct SseParser {
    max_line: usize,
    max_event: usize,
    /// How many bytes of a leading BOM have been seen; `None` once decided.
    bom_seen: Option<usize>,
    /// The unfinished line carried over from the previous chunk.
    line: Vec<u8>,
    /// The previous chunk ended with CR: an LF starting the next one belongs to it.
    after_cr: bool,
    data: String,
    event_type: String,
    id_buffer: String,
    last_event_id: String,
    retry: Option<Duration>,
    /// Non-standard fields of the current event (for `SseEvent::fields`).
    fields: Vec<(String, String)>,
    /// Bytes held for the current event, checked against `max_event`.
    event_size: usize,
    ready: VecDeque<SseEvent>,
    failed: Option<SseParseError>,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::new()
    }
}

impl SseParser {
    /// A parser with the default limits (1 MiB lines, 16 MiB events).
    pub fn new() -> SseParser {
        SseParser::with_limits(DEFAULT_MAX_LINE, DEFAULT_MAX_EVENT)
    }

    /// A parser with its own limits on one line and one event, in bytes.
    pub fn with_limits(max_line: usize, max_event: usize) -> SseParser {
        SseParser {
            max_line,
            max_event,
            bom_seen: Some(0),
            line: Vec::new(),
            after_cr: false,
            data: String::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: String::new(),
            retry: None,
            fields: Vec::new(),
            event_size: 0,
            ready: VecDeque::new(),
            failed: None,
        }
    }

    /// Starts from a known last event ID (as an `EventSource` does after reconnecting).
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> SseParser {
        self.last_event_id = id.into();
        self.id_buffer = self.last_event_id.clone();
        self
    }

    /// Parses the next piece of the stream. Events it completes wait in
    /// [`next_event`](SseParser::next_event), also when it fails part-way: the events
    /// before the failure are kept. After a failure every call fails the same way.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), SseParseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        // §9.2.5: one leading U+FEFF is dropped; it may arrive split over chunks.
        if let Some(seen) = self.bom_seen {
            let mut seen = seen;
            while seen < BOM.len() {
                match chunk.first() {
                    None => {
                        self.bom_seen = Some(seen);
                        return Ok(());
                    }
                    Some(&b) if b == BOM[seen] => {
                        seen += 1;
                        chunk = &chunk[1..];
                    }
                    Some(_) => {
                        // Not a BOM: what looked like its start is text.
                        self.bom_seen = None;
                        let result = self.feed_lines(&BOM[..seen]);
                        self.record(result)?;
                        break;
                    }
                }
            }
            self.bom_seen = None;
        }
        let result = self.feed_lines(chunk);
        self.record(result)
    }

    /// The next dispatched event, if any.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// Ends the stream: the unfinished line and event are discarded (§9.2.6: "If the file
    /// ends in the middle of an event, before the final empty line, the incomplete event
    /// is not dispatched"). Events already dispatched stay available; the last event ID
    /// and retry are kept.
    pub fn finish(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.reset_event();
        self.id_buffer = self.last_event_id.clone();
        self.bom_seen = Some(0);
    }

    /// The last event ID string: the ID in effect at the last dispatch (also one with no
    /// data), which an `EventSource` sends back as `Last-Event-ID`. Empty when none.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time set by the last valid `retry:` field.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    fn record(&mut self, result: Result<(), SseParseError>) -> Result<(), SseParseError> {
        if let Err(err) = &result {
            self.failed = Some(err.clone());
        }
        result
    }

    fn feed_lines(&mut self, mut rest: &[u8]) -> Result<(), SseParseError> {
        if rest.is_empty() {
            return Ok(());
        }
        if std::mem::take(&mut self.after_cr) && rest[0] == b'\n' {
            rest = &rest[1..];
        }
        loop {
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                if self.line.len() + rest.len() > self.max_line {
                    return Err(SseParseError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                self.line.extend_from_slice(rest);
                return Ok(());
            };
            if self.line.len() + end > self.max_line {
                return Err(SseParseError::LineTooLong {
                    limit: self.max_line,
                });
            }
            if self.line.is_empty() {
                self.process_line(&rest[..end])?;
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&rest[..end]);
                let result = self.process_line(&line);
                line.clear();
                self.line = line;
                result?;
            }
            let was_cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            // §9.2.5: a line ends with CRLF, LF or CR.
            if was_cr {
                match rest.first() {
                    None => {
                        self.after_cr = true;
                        return Ok(());
                    }
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                }
            }
            if rest.is_empty() {
                return Ok(());
            }
        }
    }

    /// §9.2.6: one line of the stream.
    fn process_line(&mut self, line: &[u8]) -> Result<(), SseParseError> {
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // a comment
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        self.grow(line.len())?;
        match name {
            b"data" => {
                push_text(&mut self.data, value);
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                push_text(&mut self.event_type, value);
            }
            b"id" => {
                // "If the field value does not contain U+0000 NULL, then set the last
                // event ID buffer to the field value. Otherwise, ignore the field."
                if !value.contains(&0) {
                    self.id_buffer.clear();
                    push_text(&mut self.id_buffer, value);
                }
            }
            b"retry" => {
                // "If the field value consists of only ASCII digits, then interpret the
                // field value as an integer in base ten, and set the event stream's
                // reconnection time to that integer. Otherwise, ignore the field."
                if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
                    if let Some(ms) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                        self.retry = Some(Duration::from_millis(ms));
                    }
                }
            }
            _ => self.fields.push((text(name), text(value))),
        }
        Ok(())
    }

    fn grow(&mut self, by: usize) -> Result<(), SseParseError> {
        self.event_size += by;
        if self.event_size > self.max_event {
            return Err(SseParseError::EventTooLarge {
                limit: self.max_event,
            });
        }
        Ok(())
    }

    /// §9.2.6 "dispatch the event".
    fn dispatch(&mut self) {
        // 1. The last event ID string takes the buffer's value, even with no data.
        if self.last_event_id != self.id_buffer {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        // 2. No data: nothing is dispatched; the buffers are reset.
        if self.data.is_empty() {
            self.reset_event();
            return;
        }
        // 3. The trailing LF of the last `data:` line goes.
        self.data.pop();
        // Only non-standard fields: the standard four have their own members (and
        // copying them into a map on every event cost half the parser's throughput).
        let fields: BTreeMap<String, String> = self.fields.drain(..).collect();
        let data = std::mem::take(&mut self.data);
        let event = std::mem::take(&mut self.event_type);
        self.ready.push_back(SseEvent {
            data,
            event: (!event.is_empty()).then_some(event),
            id: (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone()),
            retry: self.retry,
            fields,
        });
        self.event_size = 0;
    }

    fn reset_event(&mut self) {
        self.data.clear();
        self.event_type.clear();
        self.fields.clear();
        self.event_size = 0;
    }
}

/// §9.2.5: the stream is UTF-8; invalid sequences decode to U+FFFD. Line ends are ASCII,
/// so decoding line by line gives what decoding the whole stream would.
fn push_text(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (data, event, id, retry) of each dispatched event.
    type Expected = &'static [(
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<u64>,
    )];

    const CASES: &[(&str, &[u8], Expected)] = &[
        ("one event", b"data: hi\n\n", &[("hi", None, None, None)]),
        (
            "no space after colon",
            b"data:hi\n\n",
            &[("hi", None, None, None)],
        ),
        (
            "only one space stripped",
            b"data:  hi\n\n",
            &[(" hi", None, None, None)],
        ),
        (
            "multi-line data",
            b"data: a\ndata: b\n\n",
            &[("a\nb", None, None, None)],
        ),
        (
            "empty data line dispatches empty",
            b"data\n\n",
            &[("", None, None, None)],
        ),
        (
            "two empty data lines",
            b"data\ndata\n\n",
            &[("\n", None, None, None)],
        ),
        (
            "CRLF line ends",
            b"data: a\r\ndata: b\r\n\r\n",
            &[("a\nb", None, None, None)],
        ),
        (
            "CR line ends",
            b"data: a\rdata: b\r\r",
            &[("a\nb", None, None, None)],
        ),
        (
            "mixed line ends",
            b"data: a\r\ndata: b\rdata: c\n\r\n",
            &[("a\nb\nc", None, None, None)],
        ),
        (
            "BOM dropped",
            b"\xEF\xBB\xBFdata: x\n\n",
            &[("x", None, None, None)],
        ),
        (
            "second BOM is text",
            b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n",
            &[("y", None, None, None)],
        ),
        (
            "BOM-like prefix kept",
            b"\xEF\xBBdata: x\n\ndata: y\n\n",
            &[("y", None, None, None)],
        ),
        (
            "comment ignored",
            b": hello\ndata: x\n\n",
            &[("x", None, None, None)],
        ),
        ("comment only", b": keep-alive\n\n", &[]),
        (
            "event name",
            b"event: add\ndata: 1\n\n",
            &[("1", Some("add"), None, None)],
        ),
        (
            "event name resets per event",
            b"event: add\ndata: 1\n\ndata: 2\n\n",
            &[("1", Some("add"), None, None), ("2", None, None, None)],
        ),
        (
            "event without data not dispatched",
            b"event: add\n\ndata: 2\n\n",
            &[("2", None, None, None)],
        ),
        (
            "id carries over",
            b"id: 1\ndata: a\n\ndata: b\n\n",
            &[("a", None, Some("1"), None), ("b", None, Some("1"), None)],
        ),
        (
            "empty id resets",
            b"id: 1\ndata: a\n\nid\ndata: b\n\n",
            &[("a", None, Some("1"), None), ("b", None, None, None)],
        ),
        (
            "id with NUL ignored",
            b"id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n",
            &[("a", None, Some("1"), None), ("b", None, Some("1"), None)],
        ),
        (
            "id set by data-less event",
            b"id: 5\n\ndata: b\n\n",
            &[("b", None, Some("5"), None)],
        ),
        (
            "retry digits",
            b"retry: 1500\ndata: a\n\n",
            &[("a", None, None, Some(1500))],
        ),
        (
            "retry non-digits ignored",
            b"retry: 15a\ndata: a\n\nretry: -1\ndata: b\n\nretry: 1.5\ndata: c\n\n",
            &[
                ("a", None, None, None),
                ("b", None, None, None),
                ("c", None, None, None),
            ],
        ),
        (
            "retry empty ignored",
            b"retry\ndata: a\n\n",
            &[("a", None, None, None)],
        ),
        (
            "retry keeps last valid",
            b"retry: 10\n\nretry: x\ndata: a\n\n",
            &[("a", None, None, Some(10))],
        ),
        (
            "retry overflow ignored",
            b"retry: 99999999999999999999999\ndata: a\n\n",
            &[("a", None, None, None)],
        ),
        (
            "unknown field ignored",
            b"foo: bar\ndata: a\n\n",
            &[("a", None, None, None)],
        ),
        (
            "field names are case-sensitive",
            b"Data: x\ndata: a\n\n",
            &[("a", None, None, None)],
        ),
        (
            "no trailing blank line: discarded",
            b"data: a\n\ndata: b\n",
            &[("a", None, None, None)],
        ),
        ("unterminated last line discarded", b"data: a", &[]),
        (
            "colon in value kept",
            b"data: a:b: c\n\n",
            &[("a:b: c", None, None, None)],
        ),
        (
            "invalid UTF-8 replaced",
            b"data: a\xFFb\n\n",
            &[("a\u{FFFD}b", None, None, None)],
        ),
        (
            "blank lines between events",
            b"\n\n\ndata: a\n\n\n\n",
            &[("a", None, None, None)],
        ),
        (
            "event with spaces",
            b"event:  sp\ndata: a\n\n",
            &[("a", Some(" sp"), None, None)],
        ),
    ];

    fn check(name: &str, events: Vec<SseEvent>, expected: Expected, how: &str) {
        let got: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e.data.as_str(),
                    e.event.as_deref(),
                    e.id.as_deref(),
                    e.retry.map(|wait| wait.as_millis() as u64),
                )
            })
            .collect();
        assert_eq!(got, expected.to_vec(), "case {name:?} ({how})");
    }

    fn parse_in(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for chunk in chunks {
            parser.feed(chunk).unwrap();
            events.extend(std::iter::from_fn(|| parser.next_event()));
        }
        parser.finish();
        events
    }

    #[test]
    fn table_whole_input() {
        for (name, input, expected) in CASES {
            check(name, parse_in(&[input]), expected, "one chunk");
        }
    }

    #[test]
    fn table_split_at_every_offset() {
        for (name, input, expected) in CASES {
            for at in 0..=input.len() {
                let (a, b) = input.split_at(at);
                check(name, parse_in(&[a, b]), expected, &format!("split at {at}"));
            }
            for at in 0..input.len() {
                for at2 in at..=input.len() {
                    let (a, rest) = input.split_at(at);
                    let (b, c) = rest.split_at(at2 - at);
                    check(
                        name,
                        parse_in(&[a, b, c]),
                        expected,
                        &format!("split at {at},{at2}"),
                    );
                }
            }
        }
    }

    #[test]
    fn table_byte_by_byte() {
        for (name, input, expected) in CASES {
            let chunks: Vec<&[u8]> = input.chunks(1).collect();
            check(name, parse_in(&chunks), expected, "byte by byte");
        }
    }

    #[test]
    fn fields_hold_the_non_standard_fields() {
        let events = parse_in(&[
            b"event: e\nid: 3\nretry: 9\nx-custom: 1\nx-custom: 2\nx-other\ndata: a\ndata: b\n\n",
        ]);
        let fields: Vec<_> = events[0]
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(fields, [("x-custom", "2"), ("x-other", "")]);
    }

    #[test]
    fn line_limit() {
        for (input, chunks) in [
            (&b"data: 0123456789\n"[..], 1),
            (b"data: 0123456789\n", 3),
            (b"data: 0123456789", 1),
        ] {
            let mut parser = SseParser::with_limits(10, 100);
            let result: Result<Vec<()>, _> = input
                .chunks(input.len() / chunks)
                .map(|c| parser.feed(c))
                .collect();
            assert_eq!(
                result,
                Err(SseParseError::LineTooLong { limit: 10 }),
                "input {input:?} in {chunks}"
            );
            assert_eq!(
                parser.feed(b"\n"),
                Err(SseParseError::LineTooLong { limit: 10 }),
                "stays failed"
            );
        }
        let mut parser = SseParser::with_limits(10, 100);
        parser.feed(b"data: 0123\n\n").unwrap();
        assert_eq!(
            parser.next_event().unwrap().data,
            "0123",
            "a line at the limit passes"
        );
    }

    #[test]
    fn event_limit_keeps_earlier_events() {
        let mut parser = SseParser::with_limits(100, 20);
        let err = parser.feed(b"data: ok\n\ndata: 0123456789\ndata: 0123456789\n\n");
        assert_eq!(err, Err(SseParseError::EventTooLarge { limit: 20 }));
        assert_eq!(parser.next_event().unwrap().data, "ok");
        assert!(parser.next_event().is_none());
    }

    #[test]
    fn last_event_id_and_retry_survive_without_events() {
        let mut parser = SseParser::new();
        parser.feed(b"retry: 42\nid: 7\n\nid: 8\n").unwrap();
        parser.finish();
        assert_eq!(
            (parser.last_event_id(), parser.retry()),
            ("7", Some(Duration::from_millis(42)))
        );
        assert!(parser.next_event().is_none());
    }

    #[test]
    fn round_trips_written_events() {
        let sent = [
            SseEvent::new("a\nb")
                .event("e")
                .id("1")
                .retry(Duration::from_millis(5)),
            SseEvent::new(" lead\r\n").id("2"),
            SseEvent::new("").field("x", "y"),
        ];
        let mut parser = SseParser::new();
        for event in &sent {
            parser.feed(&event.to_bytes().unwrap()).unwrap();
        }
        let got: Vec<_> = std::iter::from_fn(|| parser.next_event()).collect();
        let data: Vec<_> = got.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["a\nb", " lead\n", ""]);
        assert_eq!(got[1].id.as_deref(), Some("2"));
        assert_eq!(got[2].retry, Some(Duration::from_millis(5)));
        assert_eq!(got[2].fields.get("x").map(String::as_str), Some("y"));
    }
}
