//! `multipart/form-data` request bodies (RFC 7578): HTTP.jl's `Form` and `Multipart`;
//! the framing is described in the module doc (`mod.rs`).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::poll_read_buf;

use super::boundary::{check_boundary, content_type_value, random_boundary};
use crate::messages::sniff;
use crate::{Body, Error};

/// Bytes to read before sniffing: `sniff` judges the first 512, and one more tells it the
/// data goes on (so a long JSON document cut at 512 bytes still counts as JSON).
const SNIFF_LEN: usize = 512 + 1;

/// Reader parts are read in pieces of up to this many bytes, as `Body::from_reader` does.
const CHUNK: usize = 64 * 1024;

/// A `multipart/form-data` request body (HTTP.jl `Form`).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use httpstack::multipart::Form;
///
/// let form = Form::new()
///     .text("title", "holiday")
///     .file("photo", "beach.jpg")
///     .await?;
/// let content_type = form.content_type(); // the request's Content-Type header
/// let body = form.into_body();
/// # Ok(()) }
/// ```
pub struct Form {
    boundary: String,
    parts: Vec<(String, Part)>,
}

enum Part {
    /// A plain field: no filename, no Content-Type (RFC 7578 §4.4 makes it text/plain).
    Field(Bytes),
    File(Multipart),
}

/// One file part of a [`Form`] (HTTP.jl `Multipart`): a filename, the data, and optionally
/// its Content-Type and Content-Transfer-Encoding.
///
/// Without an explicit content type the data is sniffed ([`sniff`], as HTTP.jl's
/// `content_type=HTTP.sniff(data)`); for a reader, from the first 512 bytes it yields.
///
/// ```
/// use httpstack::multipart::Multipart;
///
/// let csv = Multipart::new("report.csv", "a,b\n1,2\n").content_type("text/csv");
/// let upload = Multipart::from_reader("log.txt", tokio::io::empty()).with_length(0);
/// ```
pub struct Multipart {
    head: PartHead,
    data: Data,
}

/// What a file part's header lines say besides its field name.
struct PartHead {
    filename: String,
    content_type: Option<String>,
    transfer_encoding: Option<String>,
}

enum Data {
    Bytes(Bytes),
    Reader {
        reader: Box<dyn AsyncRead + Send + Unpin>,
        length: Option<u64>,
    },
}

impl Form {
    /// An empty form with a random boundary of 32 hex digits (HTTP.jl's
    /// `string(rand(UInt128), base=16)`), too long to occur in data by chance.
    pub fn new() -> Self {
        Form {
            boundary: random_boundary(),
            parts: Vec::new(),
        }
    }

    /// An empty form with the given boundary: 1 to 70 characters from RFC 2046 §5.1.1's
    /// set (letters, digits, `'()+_,-./:=?` and space, but not ending in a space). Fails
    /// with an invalid-input error otherwise.
    pub fn with_boundary(boundary: impl Into<String>) -> Result<Self, Error> {
        let boundary = boundary.into();
        check_boundary(&boundary)?;
        Ok(Form {
            boundary,
            parts: Vec::new(),
        })
    }

    /// Adds a text field.
    pub fn text(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.bytes(name, value.into())
    }

    /// Adds a field whose value is raw bytes (no filename, no Content-Type).
    pub fn bytes(mut self, name: impl Into<String>, data: impl Into<Bytes>) -> Self {
        self.parts.push((name.into(), Part::Field(data.into())));
        self
    }

    /// Adds a file part.
    pub fn part(mut self, name: impl Into<String>, part: Multipart) -> Self {
        self.parts.push((name.into(), Part::File(part)));
        self
    }

    /// Adds the file at `path` as a file part: the filename is the path's last component,
    /// the Content-Type is guessed from the extension (`mime_guess`) or else sniffed from
    /// the first 512 bytes, and the file is streamed when the body is sent, never read
    /// whole. Fails if the file cannot be opened or read.
    pub async fn file(self, name: impl Into<String>, path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let mut file = tokio::fs::File::open(path).await?;
        let length = file.metadata().await?.len();
        let filename = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let part = match mime_guess::from_path(path).first_raw() {
            Some(guess) => Multipart::from_reader(filename, file).content_type(guess),
            None => {
                // Sniff now rather than while sending, so the form's length is known.
                let mut prefix = Vec::with_capacity(SNIFF_LEN);
                (&mut file)
                    .take(SNIFF_LEN as u64)
                    .read_to_end(&mut prefix)
                    .await?;
                let content_type = sniff(&prefix);
                let reader = io::Cursor::new(prefix).chain(file);
                Multipart::from_reader(filename, reader).content_type(content_type)
            }
        };
        Ok(self.part(name, part.with_length(length)))
    }

    /// The boundary between parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The value for the request's Content-Type header,
    /// `multipart/form-data; boundary=...` (the boundary quoted when it is not a token,
    /// RFC 9110 §5.6.6).
    pub fn content_type(&self) -> String {
        content_type_value("form-data", &self.boundary)
    }

    /// The body's length in bytes, when every part's length is known: in-memory parts,
    /// files, and readers given both [`Multipart::with_length`] and
    /// [`Multipart::content_type`] (a sniffed type is only known once the reader is read).
    pub fn content_length(&self) -> Option<u64> {
        let mut total = closing_delimiter(&self.boundary).len() as u64;
        for (name, part) in &self.parts {
            let (head, data) = match part {
                Part::Field(data) => (field_head(&self.boundary, name), data.len() as u64),
                Part::File(Multipart {
                    head,
                    data: Data::Bytes(data),
                }) => {
                    let content_type = head.content_type.as_deref().unwrap_or_else(|| sniff(data));
                    let head = file_head(&self.boundary, name, head, content_type);
                    (head, data.len() as u64)
                }
                Part::File(Multipart {
                    head,
                    data: Data::Reader { length, .. },
                }) => {
                    let content_type = head.content_type.as_deref()?;
                    (
                        file_head(&self.boundary, name, head, content_type),
                        (*length)?,
                    )
                }
            };
            total += head.len() as u64 + data + 2;
        }
        Some(total)
    }

    /// The request body: full bytes (replayable) when every part is in memory, otherwise a
    /// stream that reads reader and file parts in order as the body is sent, and fails if
    /// a reader yields more or fewer bytes than its declared length.
    ///
    /// Take the request's Content-Length from [`Form::content_length`] before calling
    /// this: a streamed [`Body`] does not carry its length.
    pub fn into_body(self) -> Body {
        match self.into_encoded() {
            Encoded::Full(bytes) => Body::from(bytes),
            Encoded::Streamed(body) => Body::wrap(body),
        }
    }

    fn into_encoded(self) -> Encoded {
        let remaining = self.content_length();
        let Form { boundary, parts } = self;
        let mut segments = VecDeque::new();
        // Consecutive in-memory bytes are gathered into one chunk.
        let mut pending = BytesMut::new();
        for (name, part) in parts {
            match part {
                Part::Field(data) => {
                    pending.extend_from_slice(field_head(&boundary, &name).as_bytes());
                    pending.extend_from_slice(&data);
                }
                Part::File(Multipart {
                    head,
                    data: Data::Bytes(data),
                }) => {
                    let content_type = head.content_type.as_deref().unwrap_or_else(|| sniff(&data));
                    pending.extend_from_slice(
                        file_head(&boundary, &name, &head, content_type).as_bytes(),
                    );
                    pending.extend_from_slice(&data);
                }
                Part::File(Multipart {
                    head,
                    data: Data::Reader { reader, length },
                }) => {
                    let unsniffed = match &head.content_type {
                        Some(content_type) => {
                            let head = file_head(&boundary, &name, &head, content_type);
                            pending.extend_from_slice(head.as_bytes());
                            None
                        }
                        None => Some((boundary.clone(), head)),
                    };
                    segments.push_back(Segment::Bytes(pending.split().freeze()));
                    segments.push_back(Segment::Reader(ReaderPart {
                        name,
                        reader,
                        length,
                        read: 0,
                        eof: false,
                        unsniffed,
                    }));
                }
            }
            pending.extend_from_slice(b"\r\n");
        }
        pending.extend_from_slice(closing_delimiter(&boundary).as_bytes());
        if segments.is_empty() {
            return Encoded::Full(pending.freeze());
        }
        segments.push_back(Segment::Bytes(pending.freeze()));
        Encoded::Streamed(FormBody {
            segments,
            remaining,
            buf: BytesMut::new(),
        })
    }
}

impl Default for Form {
    fn default() -> Self {
        Form::new()
    }
}

impl From<Form> for Body {
    fn from(form: Form) -> Self {
        form.into_body()
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.parts.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Form")
            .field("boundary", &self.boundary)
            .field("parts", &names)
            .finish()
    }
}

impl Multipart {
    /// A file part holding `data` in memory.
    pub fn new(filename: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Multipart {
            head: PartHead::new(filename.into()),
            data: Data::Bytes(data.into()),
        }
    }

    /// A file part streamed from `reader` when the body is sent (HTTP.jl's IO data).
    /// Its length is unknown unless given with [`Multipart::with_length`].
    pub fn from_reader(
        filename: impl Into<String>,
        reader: impl AsyncRead + Send + Unpin + 'static,
    ) -> Self {
        Multipart {
            head: PartHead::new(filename.into()),
            data: Data::Reader {
                reader: Box::new(reader),
                length: None,
            },
        }
    }

    /// Declares how many bytes the reader will yield, so the form's length can be known.
    /// Sending fails if the reader yields a different number. No effect on in-memory data.
    pub fn with_length(mut self, length: u64) -> Self {
        if let Data::Reader {
            length: declared, ..
        } = &mut self.data
        {
            *declared = Some(length);
        }
        self
    }

    /// Sets the part's Content-Type (RFC 7578 §4.4) instead of sniffing it. Line breaks are
    /// removed so the value cannot add header lines.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.head.content_type = Some(single_line(content_type.into()));
        self
    }

    /// Sets the part's Content-Transfer-Encoding, written only when set (RFC 7578 §4.7
    /// deprecates it). Line breaks are removed.
    pub fn content_transfer_encoding(mut self, encoding: impl Into<String>) -> Self {
        self.head.transfer_encoding = Some(single_line(encoding.into()));
        self
    }
}

impl fmt::Debug for Multipart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = match &self.data {
            Data::Bytes(data) => format!("{} bytes", data.len()),
            Data::Reader {
                length: Some(n), ..
            } => format!("reader of {n} bytes"),
            Data::Reader { length: None, .. } => "reader".to_owned(),
        };
        f.debug_struct("Multipart")
            .field("filename", &self.head.filename)
            .field("content_type", &self.head.content_type)
            .field("content_transfer_encoding", &self.head.transfer_encoding)
            .field("data", &data)
            .finish()
    }
}

impl PartHead {
    fn new(filename: String) -> Self {
        PartHead {
            filename,
            content_type: None,
            transfer_encoding: None,
        }
    }
}

/// The delimiter and header lines of a plain field (RFC 7578 §4.2).
fn field_head(boundary: &str, name: &str) -> String {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n",
        escape_quoted(name)
    )
}

/// The delimiter and header lines of a file part: Content-Disposition with the filename
/// (RFC 7578 §4.2), Content-Type (§4.4), and Content-Transfer-Encoding if set (§4.7).
fn file_head(boundary: &str, name: &str, head: &PartHead, content_type: &str) -> String {
    let mut out = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\
         Content-Type: {content_type}\r\n",
        escape_quoted(name),
        escape_quoted(&head.filename),
    );
    if let Some(encoding) = &head.transfer_encoding {
        out.push_str("Content-Transfer-Encoding: ");
        out.push_str(encoding);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out
}

/// RFC 2046 §5.1.1: the close delimiter ends the body.
fn closing_delimiter(boundary: &str) -> String {
    format!("--{boundary}--\r\n")
}

/// A name or filename inside a quoted Content-Disposition parameter, escaped as browsers
/// do (HTML Standard, "multipart/form-data encoding algorithm"): `"` as `%22`, CR as
/// `%0D`, LF as `%0A`.
fn escape_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

fn single_line(value: String) -> String {
    if value.contains(['\r', '\n']) {
        value.replace(['\r', '\n'], "")
    } else {
        value
    }
}

/// A form turned into bytes, or into a stream when it has reader parts.
enum Encoded {
    Full(Bytes),
    Streamed(FormBody),
}

/// One piece of a streamed form, sent in order.
enum Segment {
    Bytes(Bytes),
    Reader(ReaderPart),
}

struct ReaderPart {
    name: String,
    reader: Box<dyn AsyncRead + Send + Unpin>,
    length: Option<u64>,
    read: u64,
    eof: bool,
    /// A part without a content type: its boundary and header, written in front of its
    /// first bytes once they are read and sniffed.
    unsniffed: Option<(String, PartHead)>,
}

impl ReaderPart {
    /// Whether the reader broke its declared length (more bytes, or fewer by its end).
    fn length_error(&self) -> Option<io::Error> {
        let declared = self.length?;
        if self.read > declared || (self.eof && self.read < declared) {
            Some(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "multipart part {:?}: its reader yielded {}{} bytes, but its length was set to {declared}",
                    self.name,
                    if self.eof { "" } else { "at least " },
                    self.read,
                ),
            ))
        } else {
            None
        }
    }
}

/// The streamed body of a form with reader parts.
struct FormBody {
    segments: VecDeque<Segment>,
    /// Bytes still to send, when the total is known.
    remaining: Option<u64>,
    /// Bytes read from the current reader and not yet sent.
    buf: BytesMut,
}

impl FormBody {
    /// The next chunk of the body, or `None` at its end.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Bytes>>> {
        loop {
            let part = match self.segments.front_mut() {
                None => return Poll::Ready(Ok(None)),
                Some(Segment::Bytes(bytes)) => {
                    let bytes = std::mem::take(bytes);
                    self.segments.pop_front();
                    if bytes.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Ok(Some(bytes)));
                }
                Some(Segment::Reader(part)) => part,
            };
            if part.eof {
                self.segments.pop_front();
                continue;
            }
            // A sniffed part's header can only be sent once its first bytes are read.
            let wanted = if part.unsniffed.is_some() {
                SNIFF_LEN
            } else {
                1
            };
            while !part.eof && self.buf.len() < wanted {
                self.buf.reserve(CHUNK);
                let n = ready!(poll_read_buf(Pin::new(&mut part.reader), cx, &mut self.buf))?;
                part.read += n as u64;
                part.eof = n == 0;
            }
            if let Some(error) = part.length_error() {
                return Poll::Ready(Err(error));
            }
            let data = self.buf.split().freeze();
            let Some((boundary, head)) = part.unsniffed.take() else {
                if data.is_empty() {
                    continue;
                }
                return Poll::Ready(Ok(Some(data)));
            };
            let head = file_head(&boundary, &part.name, &head, sniff(&data));
            let mut chunk = BytesMut::with_capacity(head.len() + data.len());
            chunk.extend_from_slice(head.as_bytes());
            chunk.extend_from_slice(&data);
            return Poll::Ready(Ok(Some(chunk.freeze())));
        }
    }
}

impl http_body::Body for FormBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        match ready!(this.poll_chunk(cx)) {
            Ok(Some(chunk)) => {
                if let Some(remaining) = &mut this.remaining {
                    *remaining = remaining.saturating_sub(chunk.len() as u64);
                }
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Ok(None) => Poll::Ready(None),
            Err(error) => {
                // The body is broken: end it after reporting the error.
                this.segments.clear();
                Poll::Ready(Some(Err(error)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.segments.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        self.remaining
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use tokio::io::ReadBuf;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    const SMALL: &str = "--XyZ\r\n\
        Content-Disposition: form-data; name=\"user\"\r\n\
        \r\n\
        ada\r\n\
        --XyZ\r\n\
        Content-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        hello\r\n\
        --XyZ--\r\n";

    fn form(boundary: &str) -> Form {
        Form::with_boundary(boundary).unwrap()
    }

    /// A reader that hands out `step` bytes per read and is not ready every other poll.
    struct Trickle {
        data: Bytes,
        step: usize,
        ready: bool,
    }

    fn trickle(data: &[u8], step: usize) -> Trickle {
        Trickle {
            data: Bytes::copy_from_slice(data),
            step,
            ready: false,
        }
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if !self.ready {
                self.ready = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.ready = false;
            let n = self.step.min(self.data.len()).min(buf.remaining());
            let chunk = self.data.split_to(n);
            buf.put_slice(&chunk);
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn small_form_exact_bytes() {
        let form = form("XyZ").text("user", "ada").part(
            "doc",
            Multipart::new("a.txt", "hello").content_type("text/plain"),
        );
        assert_eq!(form.content_type(), "multipart/form-data; boundary=XyZ");
        assert_eq!(form.content_length(), Some(SMALL.len() as u64));
        let body = form.into_body();
        assert!(
            body.try_clone().is_some(),
            "an in-memory form is replayable"
        );
        assert_eq!(body.collect_bytes().await.unwrap(), SMALL);
    }

    #[tokio::test]
    async fn empty_form_is_the_close_delimiter() {
        let form = form("b");
        assert_eq!(form.content_length(), Some(7));
        assert_eq!(form.into_body().collect_bytes().await.unwrap(), "--b--\r\n");
    }

    /// The same form, with each file part either in memory or behind a trickling reader.
    fn mixed_form(streamed: bool) -> Form {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let file = |name: &str, data: &[u8]| {
            if streamed {
                Multipart::from_reader(name, trickle(data, 300))
            } else {
                Multipart::new(name.to_owned(), Bytes::copy_from_slice(data))
            }
        };
        form("----sample-boundary")
            .text("title", "holiday")
            .part("png", file("cat.png", PNG))
            .part("json", file("data.bin", br#"{"a": [1, 2]}"#))
            .part(
                "big",
                file("big.bin", &big).content_type("application/x-test"),
            )
            .part("empty", file("empty", b""))
            .part(
                "encoded",
                file("e.txt", b"aGVsbG8=")
                    .content_type("text/plain")
                    .content_transfer_encoding("base64"),
            )
            .bytes("raw", &b"\x00\x01"[..])
    }

    #[tokio::test]
    async fn streamed_form_matches_in_memory_form() {
        let expected = mixed_form(false).into_body().collect_bytes().await.unwrap();
        let streamed = mixed_form(true).into_body();
        assert!(streamed.try_clone().is_none(), "a reader form is a stream");
        let streamed = streamed.collect_bytes().await.unwrap();
        assert_eq!(streamed.len(), expected.len());
        assert!(streamed == expected, "streamed and in-memory bodies differ");

        let text = String::from_utf8_lossy(&expected);
        assert!(text.contains("filename=\"cat.png\"\r\nContent-Type: image/png\r\n"));
        assert!(text.contains("Content-Type: application/json; charset=utf-8\r\n"));
        assert!(text.contains("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"));
        assert_eq!(text.matches("Content-Transfer-Encoding").count(), 1);
        assert!(text.ends_with("\r\n------sample-boundary--\r\n"));
    }

    #[tokio::test]
    async fn sniffs_a_png_reader() {
        let form = form("b").part("pic", Multipart::from_reader("upload", trickle(PNG, 3)));
        let body = form.into_body().collect_bytes().await.unwrap();
        let head = "--b\r\nContent-Disposition: form-data; name=\"pic\"; filename=\"upload\"\r\n\
                    Content-Type: image/png\r\n\r\n";
        assert_eq!(body, [head.as_bytes(), PNG, b"\r\n--b--\r\n"].concat());
    }

    #[tokio::test]
    async fn content_length_matches_the_body() {
        let data = vec![b'x'; 70_000];
        let sized = || {
            form("b")
                .text("a", "1")
                .part(
                    "f",
                    Multipart::from_reader("f.txt", trickle(&data, 5000))
                        .with_length(data.len() as u64)
                        .content_type("text/plain"),
                )
                .part("g", Multipart::new("g", PNG))
        };
        let length = sized().content_length().unwrap();
        let Encoded::Streamed(mut body) = sized().into_encoded() else {
            panic!("a reader form is streamed");
        };
        let mut sent = 0;
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            sent += frame.unwrap().into_data().unwrap().len() as u64;
            assert_eq!(body.size_hint().exact(), Some(length - sent));
        }
        assert_eq!(sent, length);
        assert_eq!(body.size_hint().exact(), Some(0));
        let collected = sized().into_body().collect_bytes().await.unwrap();
        assert_eq!(collected.len() as u64, length);

        for (case, part) in [
            (
                "no length",
                Multipart::from_reader("f", trickle(b"abc", 1)).content_type("x/y"),
            ),
            (
                "sniffed type",
                Multipart::from_reader("f", trickle(b"abc", 1)).with_length(3),
            ),
        ] {
            let form = form("b").part("f", part);
            assert_eq!(form.content_length(), None, "{case}");
            let Encoded::Streamed(body) = form.into_encoded() else {
                panic!("{case}: a reader form is streamed");
            };
            assert_eq!(body.size_hint().exact(), None, "{case}");
        }
    }

    #[tokio::test]
    async fn wrong_declared_length_fails() {
        for (declared, data) in [(5, &b"abc"[..]), (2, &b"abc"[..]), (0, &b"a"[..])] {
            let part = Multipart::from_reader("f", trickle(data, 1))
                .with_length(declared)
                .content_type("text/plain");
            let err = form("b").part("f", part).into_body().collect_bytes().await;
            let err = err.unwrap_err();
            // The cause is in the source chain (Display does not repeat it).
            let message = err.report();
            assert!(
                message.contains("length was set to"),
                "{declared}: {message}"
            );
        }
    }

    #[tokio::test]
    async fn names_and_values_cannot_break_the_framing() {
        let form = form("b").text("a\"b\r\nc", "v").part(
            "f",
            Multipart::new("x\".txt\n", "d")
                .content_type("text/plain\r\nX-Evil: 1")
                .content_transfer_encoding("8bit\r\n"),
        );
        let body = form.into_body().collect_bytes().await.unwrap();
        let text = std::str::from_utf8(&body).unwrap();
        assert!(text.contains("name=\"a%22b%0D%0Ac\"\r\n"));
        assert!(text.contains("filename=\"x%22.txt%0A\"\r\n"));
        assert!(text.contains("Content-Type: text/plainX-Evil: 1\r\n"));
        assert!(text.contains("Content-Transfer-Encoding: 8bit\r\n\r\nd\r\n"));
    }

    #[test]
    fn boundaries() {
        let a = Form::new();
        let b = Form::default();
        assert_eq!(a.boundary().len(), 32);
        assert!(a.boundary().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.boundary(), b.boundary());

        let long = "x".repeat(71);
        for bad in [
            "",
            "a\r\nb",
            "semi;colon",
            "quote\"",
            "trailing ",
            long.as_str(),
        ] {
            assert!(Form::with_boundary(bad).is_err(), "boundary {bad:?}");
        }
        let spaced = form("a b:c");
        assert_eq!(
            spaced.content_type(),
            "multipart/form-data; boundary=\"a b:c\""
        );
        assert_eq!(form(&"x".repeat(70)).boundary().len(), 70);
    }

    #[tokio::test]
    async fn files_are_streamed_with_a_guessed_or_sniffed_type() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("cat.png");
        std::fs::write(&png, b"not really a png").unwrap();
        let odd = dir.path().join("payload.zzunknown");
        let json = format!("[{}0]", "1, ".repeat(300));
        std::fs::write(&odd, &json).unwrap();

        let form = form("b")
            .file("a", &png)
            .await
            .unwrap()
            .file("b", &odd)
            .await
            .unwrap();
        let length = form.content_length().expect("file lengths are known");
        let body = form.into_body();
        assert!(body.try_clone().is_none(), "files are streamed");
        let body = body.collect_bytes().await.unwrap();
        assert_eq!(body.len() as u64, length);
        let text = std::str::from_utf8(&body).unwrap();
        assert!(text.contains(
            "filename=\"cat.png\"\r\nContent-Type: image/png\r\n\r\nnot really a png\r\n"
        ));
        assert!(text.contains(&format!(
            "filename=\"payload.zzunknown\"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{json}\r\n"
        )));

        let missing = Form::new().file("x", dir.path().join("missing")).await;
        assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
