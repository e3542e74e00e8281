//! [`RequestFraming`]: follows HTTP/1 request framing (RFC 9112 §6–7) in the bytes hyper
//! reads from a connection, so the server can bound a chunked request body
//! (`max_body_bytes`) and a whole request (`read_timeout`) while the handler still gets
//! hyper's own `Incoming` body.
//!
//! Why not a body wrapper: the served service takes `Request<hyper::body::Incoming>`,
//! which only hyper can build, so the only place to stop a request body is the byte
//! stream under hyper. A body that breaks the limit is cut there at the exact byte, and
//! the next read fails: hyper hands the error to the handler's `Incoming`, and the
//! server answers 413 if the handler had not answered yet. Heads are parsed with
//! `httparse`, as hyper does; chunk framing mirrors hyper's decoder state by state. Any
//! input hyper itself would reject stops the tracking (hyper closes the connection).

use std::time::Instant;

use super::activity::Activity;

/// What may reach hyper of the bytes just read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fed {
    /// All of them.
    All,
    /// Only the first `n`: the rest is past `max_body_bytes`, and reads fail from now on.
    Cut(usize),
}

/// The framing state of one HTTP/1 connection; see the module docs.
#[derive(Debug)]
pub(crate) struct RequestFraming {
    max_body_bytes: Option<u64>,
    /// Heads longer than this are refused by hyper (431): stop copying them.
    max_head_bytes: usize,
    state: State,
    /// The head read so far, when it spans reads.
    head: Vec<u8>,
    /// Data bytes of the current chunked body so far.
    body_seen: u64,
    /// After the current body: the request asked to switch protocols.
    upgrade_after_body: bool,
    /// The index of the next request head on the connection.
    next_request: u64,
    /// The index of the request whose body is being read.
    current: u64,
    /// When the first byte of the current request arrived (for `read_timeout`).
    started: Option<Instant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Head,
    Fixed(u64),
    Chunked(Chunk),
    /// After an upgrade request: the bytes may no longer be HTTP/1, until the service
    /// refuses the upgrade.
    Upgrade,
    /// Input hyper refuses; it closes the connection.
    Untracked,
    /// The body broke the limit, or the request took too long: reads fail.
    Failed,
}

/// hyper's `ChunkedState`, for requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    Start,
    Size(u64),
    SizeLws(u64),
    Extension(u64),
    SizeLf(u64),
    Body(u64),
    BodyCr,
    BodyLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
}

/// hyper's default limit on header count; more is a 431 there, so a stop here.
const MAX_HEADERS: usize = 100;

impl RequestFraming {
    pub(crate) fn new(max_body_bytes: Option<u64>, max_head_bytes: usize) -> Self {
        RequestFraming {
            max_body_bytes,
            max_head_bytes,
            state: State::Head,
            head: Vec::new(),
            body_seen: 0,
            upgrade_after_body: false,
            next_request: 0,
            current: 0,
            started: None,
        }
    }

    /// Whether reads must fail (body over the limit, or the request timed out).
    pub(crate) fn failed(&self) -> bool {
        self.state == State::Failed
    }

    /// Makes every further read fail (the request timed out).
    pub(crate) fn fail(&mut self) {
        self.state = State::Failed;
    }

    /// When the request being read started, while one is being read (head or body).
    pub(crate) fn reading_since(&self) -> Option<Instant> {
        match self.state {
            State::Head | State::Fixed(_) | State::Chunked(_) => self.started,
            State::Upgrade | State::Untracked | State::Failed => None,
        }
    }

    /// Follows `bytes`, the next bytes hyper will see.
    pub(crate) fn feed(&mut self, bytes: &[u8], activity: &Activity) -> Fed {
        let mut at = 0;
        while at < bytes.len() {
            match self.state {
                State::Untracked | State::Failed => return Fed::All,
                State::Upgrade => {
                    if activity.take_upgrade_refused() {
                        self.state = State::Head;
                    } else {
                        return Fed::All;
                    }
                }
                State::Head => {
                    if self.started.is_none() {
                        self.started = Some(Instant::now());
                    }
                    match self.read_head(&bytes[at..]) {
                        Some(used) => at += used,
                        None => return Fed::All,
                    }
                }
                State::Fixed(remaining) => {
                    let take = remaining.min(len_u64(bytes.len() - at));
                    at += usize_of(take);
                    if take == remaining {
                        self.body_done();
                    } else {
                        self.state = State::Fixed(remaining - take);
                    }
                }
                State::Chunked(Chunk::Body(remaining)) => {
                    let take = remaining.min(len_u64(bytes.len() - at));
                    if let Some(max) = self.max_body_bytes {
                        let room = max.saturating_sub(self.body_seen);
                        if take > room {
                            self.state = State::Failed;
                            activity.set_body_overflow(self.current);
                            return Fed::Cut(at + usize_of(room));
                        }
                    }
                    self.body_seen += take;
                    at += usize_of(take);
                    self.state = State::Chunked(if take == remaining {
                        Chunk::BodyCr
                    } else {
                        Chunk::Body(remaining - take)
                    });
                }
                State::Chunked(chunk) => {
                    let byte = bytes[at];
                    at += 1;
                    match next_chunk_state(chunk, byte) {
                        Some(Ok(next)) => self.state = State::Chunked(next),
                        Some(Err(())) => self.state = State::Untracked,
                        None => self.body_done(),
                    }
                }
            }
        }
        Fed::All
    }

    /// Reads head bytes; returns how many of `bytes` the head used once it is complete,
    /// `None` while it is not (or the input is not HTTP/1).
    fn read_head(&mut self, bytes: &[u8]) -> Option<usize> {
        let before = self.head.len();
        let parsed = if before == 0 {
            parse_head(bytes)
        } else {
            self.head.extend_from_slice(bytes);
            parse_head(&self.head)
        };
        match parsed {
            Head::Partial => {
                if before == 0 {
                    self.head.extend_from_slice(bytes);
                }
                if self.head.len() > self.max_head_bytes {
                    self.untrack();
                }
                None
            }
            Head::Invalid => {
                self.untrack();
                None
            }
            Head::Complete { len, body, upgrade } => {
                self.head.clear();
                self.current = self.next_request;
                self.next_request += 1;
                self.body_seen = 0;
                self.upgrade_after_body = upgrade;
                match body {
                    Body::Fixed(0) => self.body_done(),
                    Body::Fixed(n) => self.state = State::Fixed(n),
                    Body::Chunked => self.state = State::Chunked(Chunk::Start),
                    Body::Invalid => self.untrack(),
                }
                Some(len - before)
            }
        }
    }

    fn body_done(&mut self) {
        self.started = None;
        self.state = if self.upgrade_after_body {
            State::Upgrade
        } else {
            State::Head
        };
    }

    fn untrack(&mut self) {
        self.head = Vec::new();
        self.started = None;
        self.state = State::Untracked;
    }
}

/// One step of hyper's chunk decoder, outside the data: the next state, an error, or
/// `None` at the end of the body.
fn next_chunk_state(chunk: Chunk, byte: u8) -> Option<Result<Chunk, ()>> {
    let hex = |size: u64| {
        let digit = char::from(byte).to_digit(16)?;
        size.checked_mul(16)?.checked_add(u64::from(digit))
    };
    let next = match (chunk, byte) {
        // RFC 9112 §7.1: chunk-size is hex, no sign; hyper allows whitespace after it.
        (Chunk::Start, _) => hex(0).map(Chunk::Size),
        (Chunk::Size(size), b'\t' | b' ') => Some(Chunk::SizeLws(size)),
        (Chunk::Size(size) | Chunk::SizeLws(size), b';') => Some(Chunk::Extension(size)),
        (Chunk::Size(size) | Chunk::SizeLws(size) | Chunk::Extension(size), b'\r') => {
            Some(Chunk::SizeLf(size))
        }
        (Chunk::Size(size), _) => hex(size).map(Chunk::Size),
        (Chunk::SizeLws(size), b'\t' | b' ') => Some(Chunk::SizeLws(size)),
        (Chunk::Extension(_), b'\n') => None,
        (Chunk::Extension(size), _) => Some(Chunk::Extension(size)),
        (Chunk::SizeLf(0), b'\n') => Some(Chunk::EndCr),
        (Chunk::SizeLf(size), b'\n') => Some(Chunk::Body(size)),
        (Chunk::BodyCr, b'\r') => Some(Chunk::BodyLf),
        (Chunk::BodyLf, b'\n') => Some(Chunk::Start),
        (Chunk::Trailer, b'\r') => Some(Chunk::TrailerLf),
        (Chunk::Trailer, _) => Some(Chunk::Trailer),
        (Chunk::TrailerLf, b'\n') => Some(Chunk::EndCr),
        (Chunk::EndCr, b'\r') => Some(Chunk::EndLf),
        (Chunk::EndCr, _) => Some(Chunk::Trailer),
        (Chunk::EndLf, b'\n') => return None,
        _ => None,
    };
    Some(next.ok_or(()))
}

enum Head {
    Partial,
    Invalid,
    Complete {
        len: usize,
        body: Body,
        upgrade: bool,
    },
}

enum Body {
    Fixed(u64),
    Chunked,
    Invalid,
}

/// Parses a request head as hyper does (httparse, at most 100 headers) and finds how its
/// body is framed (RFC 9112 §6.3: Transfer-Encoding over Content-Length; a request
/// without either has no body).
fn parse_head(bytes: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::Invalid,
    };
    let mut upgrade = request.method == Some("CONNECT");
    let (mut transfer_encoding, mut chunked, mut length) = (false, false, None);
    for header in request.headers.iter() {
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = true;
            // The last coding must be chunked for a request body to be chunked.
            chunked = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if header.name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
            match (value, length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(seen)) if n == seen => {}
                _ => {
                    return Head::Complete {
                        len,
                        body: Body::Invalid,
                        upgrade,
                    }
                }
            }
        } else if header.name.eq_ignore_ascii_case("upgrade") {
            upgrade = true;
        }
    }
    let body = match (transfer_encoding, chunked, length) {
        (true, true, _) => Body::Chunked,
        (true, false, _) => Body::Invalid,
        (false, _, length) => Body::Fixed(length.unwrap_or(0)),
    };
    Head::Complete { len, body, upgrade }
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `n` as a `usize`; only called with `n` at most a slice length.
fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity() -> Activity {
        let now = tokio::time::Instant::now();
        Activity::new(now, now, true)
    }

    /// Feeds `input` in pieces of `step` bytes; returns how many bytes got through.
    fn feed_all(
        framing: &mut RequestFraming,
        activity: &Activity,
        input: &[u8],
        step: usize,
    ) -> usize {
        let mut passed = 0;
        for piece in input.chunks(step) {
            match framing.feed(piece, activity) {
                Fed::All => passed += piece.len(),
                Fed::Cut(n) => return passed + n,
            }
        }
        passed
    }

    const CHUNKED: &[u8] =
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer-A: 1\r\n\r\n";

    #[test]
    fn chunked_bodies_at_the_limit_pass_and_one_past_is_cut() {
        for step in [1, 2, 7, CHUNKED.len()] {
            let activity = activity();
            let mut framing = RequestFraming::new(Some(5), 1 << 20);
            let passed = feed_all(&mut framing, &activity, CHUNKED, step);
            assert_eq!(passed, CHUNKED.len(), "step {step}");
            assert_eq!(framing.state, State::Head, "step {step}");
            assert!(!activity.body_overflowed(0));

            let activity = self::activity();
            let mut framing = RequestFraming::new(Some(4), 1 << 20);
            let passed = feed_all(&mut framing, &activity, CHUNKED, step);
            // Everything up to and including the 4th data byte ("d"), nothing after.
            let cut = CHUNKED.windows(2).position(|w| w == b"de").expect("data") + 1;
            assert_eq!(passed, cut, "step {step}");
            assert!(framing.failed());
            assert!(activity.body_overflowed(0), "step {step}");
        }
    }

    #[test]
    fn pipelined_requests_are_counted_and_content_length_is_skipped() {
        let input = [
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"POST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789",
            CHUNKED,
        ]
        .concat();
        let activity = activity();
        // Fixed-length bodies are not counted: the server answers 413 from Content-Length.
        let mut framing = RequestFraming::new(Some(4), 1 << 20);
        let passed = feed_all(&mut framing, &activity, &input, 5);
        assert!(passed < input.len());
        assert!(
            activity.body_overflowed(2),
            "the third request broke the limit"
        );
        assert!(!activity.body_overflowed(1));
    }

    #[test]
    fn reading_since_covers_head_and_body_only() {
        let activity = activity();
        let mut framing = RequestFraming::new(None, 1 << 20);
        assert_eq!(framing.reading_since(), None);
        framing.feed(b"POST / HTTP/1.1\r\nContent-Le", &activity);
        let started = framing.reading_since().expect("head started");
        framing.feed(b"ngth: 4\r\n\r\nab", &activity);
        assert_eq!(framing.reading_since(), Some(started), "body still coming");
        framing.feed(b"cd", &activity);
        assert_eq!(framing.reading_since(), None, "request complete");
    }

    #[test]
    fn upgrades_stop_tracking_until_refused() {
        let activity = activity();
        let mut framing = RequestFraming::new(Some(1), 1 << 20);
        framing.feed(
            b"GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            &activity,
        );
        assert_eq!(framing.state, State::Upgrade);
        // Arbitrary bytes of another protocol pass through untouched.
        assert_eq!(framing.feed(b"\x81\x05hello", &activity), Fed::All);
        assert_eq!(framing.state, State::Upgrade);

        activity.refuse_upgrade();
        framing.feed(b"GET / HTTP/1.1\r\n\r\n", &activity);
        assert_eq!(framing.state, State::Head);
        assert_eq!(framing.next_request, 2);
    }

    #[test]
    fn input_hyper_refuses_stops_tracking() {
        for input in [
            &b"NOT HTTP\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ] {
            let activity = activity();
            let mut framing = RequestFraming::new(Some(1), 1 << 20);
            assert_eq!(framing.feed(input, &activity), Fed::All);
            assert_eq!(
                framing.state,
                State::Untracked,
                "case {:?}",
                String::from_utf8_lossy(input)
            );
        }
        let activity = activity();
        let mut framing = RequestFraming::new(None, 16);
        framing.feed(b"GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaa", &activity);
        assert_eq!(framing.state, State::Untracked, "head over the limit");
    }
}
