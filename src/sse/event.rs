//! [`SseEvent`]: one Server-Sent Event, as the parser hands it out and as the server
//! writes it (HTTP.jl `SSEEvent(data; event, id, retry)`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

use crate::Error;

/// One Server-Sent Event (HTTP.jl `SSEEvent`).
///
/// On the client (from [`SseParser`](super::SseParser)), `data` is the event's `data:`
/// lines joined with `\n`; `event` is its `event:` name (`None` means the default type,
/// `"message"`); `id` is the last event ID in effect when the event was dispatched
/// (it carries over from earlier events, as in the browser's `lastEventId`); `retry` is
/// the last valid `retry:` hint of the stream; `fields` holds the event's
/// non-standard fields by name (the last value wins).
///
/// On the server ([`SseSender::send`](super::SseSender::send)) the same fields are written:
/// `event`, `id`, `retry`, the non-standard entries of `fields`, then `data` as one
/// `data:` line per line of text, then the blank line that dispatches the event.
///
/// ```
/// use httpstack::sse::SseEvent;
///
/// let event = SseEvent::new("line 1\nline 2").event("update").id("7");
/// assert_eq!(
///     event.to_bytes().unwrap(),
///     "event: update\nid: 7\ndata: line 1\ndata: line 2\n\n"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The event's data: its `data:` lines joined with `\n`.
    pub data: String,
    /// The event type (`event:`); `None` is the default type, `"message"`.
    pub event: Option<String>,
    /// The last event ID (`id:`); `None` when no ID is in effect.
    pub id: Option<String>,
    /// The reconnection time hint (`retry:`, written in whole milliseconds).
    pub retry: Option<Duration>,
    /// The event's non-standard fields (not `data`, `event`, `id`, `retry`) by name; the
    /// last value wins. (HTTP.jl's `fields` repeats the standard four as well; here they
    /// live only in their own members.)
    pub fields: BTreeMap<String, String>,
}

impl SseEvent {
    /// An event of the default type carrying `data`.
    pub fn new(data: impl Into<String>) -> SseEvent {
        SseEvent {
            data: data.into(),
            ..SseEvent::default()
        }
    }

    /// Sets the event type (`event:`).
    pub fn event(mut self, event: impl Into<String>) -> SseEvent {
        self.event = Some(event.into());
        self
    }

    /// Sets the event ID (`id:`), which the client sends back as `Last-Event-ID` when it
    /// reconnects.
    pub fn id(mut self, id: impl Into<String>) -> SseEvent {
        self.id = Some(id.into());
        self
    }

    /// Sets the reconnection time hint (`retry:`, written in whole milliseconds).
    pub fn retry(mut self, wait: Duration) -> SseEvent {
        self.retry = Some(wait);
        self
    }

    /// Adds a non-standard field `name: value` (ignored by browsers, kept in `fields` by
    /// httpstack's parser).
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> SseEvent {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// The event type a browser dispatches: the `event` name, or `"message"`.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }

    /// The event on the wire (`text/event-stream`, UTF-8), ending with the blank line
    /// that dispatches it.
    ///
    /// Fails with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when a
    /// field cannot be written without changing its meaning: a CR or LF in `event`, `id`
    /// or a field, a NUL in `id` (clients ignore such IDs), or a field name that is empty,
    /// holds a `:`, or is one of the standard four. Line breaks in `data` are fine: each
    /// line becomes its own `data:` line (CRLF and lone CR turn into LF on the client).
    pub fn to_bytes(&self) -> Result<Bytes, Error> {
        let mut out = BytesMut::with_capacity(self.data.len() + 32);
        self.write_to(&mut out)?;
        Ok(out.freeze())
    }

    /// Appends [`SseEvent::to_bytes`]'s output to `out`.
    pub fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        if let Some(event) = &self.event {
            write_field(out, "event", single_line("event", event)?);
        }
        if let Some(id) = &self.id {
            if id.contains('\0') {
                return Err(Error::invalid_input(
                    "SSE event id contains NUL (clients ignore such ids)",
                ));
            }
            write_field(out, "id", single_line("id", id)?);
        }
        if let Some(retry) = self.retry {
            write_field(out, "retry", &retry.as_millis().to_string());
        }
        for (name, value) in &self.fields {
            if matches!(name.as_str(), "data" | "event" | "id" | "retry") {
                // Written from their own members above.
                continue;
            }
            if name.is_empty() || name.contains([':', '\r', '\n']) {
                return Err(Error::invalid_input(format!(
                    "SSE field name {name:?} is empty or holds ':', CR or LF"
                )));
            }
            write_field(out, name, single_line(name, value)?);
        }
        // One `data:` line per line: WHATWG §9.2.6 joins them back with LF. An empty
        // `data` still writes one `data:` line, so the event is dispatched (with "").
        for line in split_lines(&self.data) {
            write_field(out, "data", line);
        }
        out.put_u8(b'\n');
        Ok(())
    }
}

impl From<String> for SseEvent {
    fn from(data: String) -> SseEvent {
        SseEvent::new(data)
    }
}

impl From<&str> for SseEvent {
    fn from(data: &str) -> SseEvent {
        SseEvent::new(data)
    }
}

impl fmt::Display for SseEvent {
    /// The event on the wire, or `<invalid SSE event: ...>` when it cannot be written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_bytes() {
            Ok(bytes) => f.write_str(&String::from_utf8_lossy(&bytes)),
            Err(err) => write!(f, "<invalid SSE event: {err}>"),
        }
    }
}

/// Writes `name: value\n`. The space after the colon is the one the parser strips, so a
/// value that itself starts with a space survives.
fn write_field(out: &mut BytesMut, name: &str, value: &str) {
    out.reserve(name.len() + value.len() + 3);
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

fn single_line<'a>(name: &str, value: &'a str) -> Result<&'a str, Error> {
    if value.contains(['\r', '\n']) {
        return Err(Error::invalid_input(format!(
            "SSE field `{name}` must be one line (it holds CR or LF)"
        )));
    }
    Ok(value)
}

/// Splits on CRLF, CR or LF (the three line ends of WHATWG §9.2.5's grammar).
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(i) => {
                let skip = if current[i..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&current[i + skip..]);
                Some(&current[..i])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_events() {
        let cases: &[(SseEvent, &str)] = &[
            (SseEvent::new("hi"), "data: hi\n\n"),
            (SseEvent::new(""), "data: \n\n"),
            (SseEvent::new("a\nb"), "data: a\ndata: b\n\n"),
            (
                SseEvent::new("a\r\nb\rc\n"),
                "data: a\ndata: b\ndata: c\ndata: \n\n",
            ),
            (SseEvent::new(" lead"), "data:  lead\n\n"),
            (
                SseEvent::new("x")
                    .event("e")
                    .id("1")
                    .retry(Duration::from_millis(250)),
                "event: e\nid: 1\nretry: 250\ndata: x\n\n",
            ),
            (
                SseEvent::new("x")
                    .field("note", "n")
                    .field("data", "ignored"),
                "note: n\ndata: x\n\n",
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(event.to_bytes().unwrap(), *expected, "case {event:?}");
        }
    }

    #[test]
    fn rejects_fields_that_would_change_meaning() {
        let cases = [
            SseEvent::new("x").event("a\nb"),
            SseEvent::new("x").id("a\rb"),
            SseEvent::new("x").id("a\0b"),
            SseEvent::new("x").field("a:b", "v"),
            SseEvent::new("x").field("", "v"),
            SseEvent::new("x").field("n", "v\n"),
        ];
        for event in cases {
            let err = event.to_bytes().unwrap_err();
            assert!(err.is_invalid_input(), "case {event:?}: {err}");
        }
    }
}
