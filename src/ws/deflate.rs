//! permessage-deflate (RFC 7692): the negotiation of `Sec-WebSocket-Extensions` on both
//! roles, and the compressor and decompressor a connection uses once it is agreed.
//!
//! A message is compressed as a whole with raw DEFLATE, flushed with `Z_SYNC_FLUSH`, and
//! its trailing `00 00 ff ff` dropped (§7.2.1); the receiver puts it back before
//! inflating (§7.2.2). The first frame carries RSV1. With "no context takeover" the
//! sliding window is emptied after every message; otherwise it carries over.
//!
//! zlib (and so flate2) cannot compress raw DEFLATE with an 8-bit window (its minimum is
//! 9). A server asked for `server_max_window_bits=8` declines that offer and takes the
//! client's next one, as RFC 7692 §7.1.2.1 lets it (Python `websockets` does the same).
//! A client the server limits to `client_max_window_bits=8` (§7.1.2.2) sends stored
//! (uncompressed) DEFLATE blocks, which hold no back-references and so fit any window:
//! the connection works, only without compression in that direction. Inflating always
//! uses a 15-bit window, which reads any smaller one.
//!
//! The header parser is hand-written: RFC 7692's grammar (RFC 6455 §9.1's extension list
//! with RFC 7230 quoted strings) is small, and no crate parses it.

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use http::HeaderMap;

/// The extension's token.
const NAME: &str = "permessage-deflate";

/// The four bytes a sync flush ends with, dropped from each message (§7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// A last frame up to this size is inflated with its tail in one call.
const SMALL_INPUT: usize = 256;

/// How much output space inflating asks for at a time.
const INFLATE_CHUNK: usize = 32 << 10;

/// permessage-deflate settings (RFC 7692), for [`Connect::deflate`](super::Connect::deflate),
/// [`Upgrade::deflate`](super::Upgrade::deflate) and their off switch
/// `permessage_deflate(false)`.
///
/// On by default on both sides: a client offers `permessage-deflate;
/// client_max_window_bits` (what browsers offer), then the same with
/// `client_no_context_takeover` for servers that insist on it; a server accepts the first
/// offer it can serve. The defaults keep the context between messages (best ratio; 32 KiB of
/// window plus zlib's state per direction and connection) and compress at level 1
/// (most of the ratio for little CPU on the small messages WebSockets carry).
///
/// ```
/// use httpstack::ws::{self, DeflateConfig};
///
/// // A server that keeps no compression state between messages (less memory per
/// // connection), and asks clients to do the same.
/// let service = ws::echo().deflate(
///     DeflateConfig::default()
///         .server_no_context_takeover(true)
///         .client_no_context_takeover(true)
///         .server_max_window_bits(10),
/// );
/// // A client that does not compress at all.
/// let connect = ws::connect("ws://127.0.0.1:9/").permessage_deflate(false);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<u8>,
    level: u32,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            level: 1,
        }
    }
}

impl DeflateConfig {
    /// `server_no_context_takeover`: the server empties its compression window after
    /// every message. A client asks for it in its offer; a server sets it in its answer.
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// `client_no_context_takeover`: the client empties its compression window after
    /// every message. A client offers it (and then does so); a server asks for it.
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// `server_max_window_bits` (8–15; out of range values are clamped): the largest
    /// window the server compresses with. A client asks for it; a server uses it as its
    /// own cap. 8 cannot be served by zlib: a server declines offers that require it.
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = Some(bits.clamp(8, 15));
        self
    }

    /// `client_max_window_bits` (8–15; clamped): the largest window the client
    /// compresses with. A client compresses with at most this; a server asks clients
    /// that allow it for this cap.
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = Some(bits.clamp(8, 15));
        self
    }

    /// The zlib compression level, 0 (none) to 9 (best, slowest); default 1.
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// The client's offer: `permessage-deflate; client_max_window_bits` plus what is
    /// asked for — and, unless no context takeover is asked for already, the same again
    /// with `client_no_context_takeover`, for servers that accept only clients that keep
    /// no context (a server picks the first offer it can serve, RFC 7692 §5).
    pub(crate) fn client_offer(&self) -> String {
        let first = self.one_offer(self.client_no_context_takeover);
        if self.client_no_context_takeover {
            first
        } else {
            format!("{first}, {}", self.one_offer(true))
        }
    }

    fn one_offer(&self, client_no_context_takeover: bool) -> String {
        let mut offer = String::from(NAME);
        if self.server_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        if client_no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        if let Some(bits) = self.server_max_window_bits {
            offer.push_str(&format!("; server_max_window_bits={bits}"));
        }
        match self.client_max_window_bits {
            Some(bits) => offer.push_str(&format!("; client_max_window_bits={bits}")),
            // Lets the server cap our window, as browsers do.
            None => offer.push_str("; client_max_window_bits"),
        }
        offer
    }

    /// The server's side: the answer to the first offer in `headers` we can serve, with
    /// the parameters both ends then use; `None` declines (no offer, or none we serve).
    pub(crate) fn accept(&self, headers: &HeaderMap) -> Option<(String, Agreed)> {
        offers(headers).find_map(|offer| self.accept_one(&offer.ok()?))
    }

    fn accept_one(&self, offer: &Params) -> Option<(String, Agreed)> {
        // §7.1.2.1: the server's window is at most what the client asked for, and ours.
        let server_bits = match (offer.server_max_window_bits, self.server_max_window_bits) {
            (Some(Some(asked)), Some(ours)) => Some(asked.min(ours)),
            (Some(Some(asked)), None) => Some(asked),
            (Some(None), _) => return None, // a value is required in an offer
            (None, ours) => ours,
        };
        if server_bits == Some(8) {
            return None; // zlib cannot; decline this offer (§7.1.2.1)
        }
        // §7.1.2.2: we may cap the client's window only if it said it can be capped.
        let client_bits = match (offer.client_max_window_bits, self.client_max_window_bits) {
            (Some(Some(offered)), Some(ours)) => Some(offered.min(ours)),
            (Some(Some(offered)), None) => Some(offered),
            (Some(None), ours) => ours,
            (None, _) => None,
        };
        let server_no_context = offer.server_no_context_takeover || self.server_no_context_takeover;
        let client_no_context = offer.client_no_context_takeover || self.client_no_context_takeover;
        let mut answer = String::from(NAME);
        if server_no_context {
            answer.push_str("; server_no_context_takeover");
        }
        if client_no_context {
            answer.push_str("; client_no_context_takeover");
        }
        if let Some(bits) = server_bits {
            answer.push_str(&format!("; server_max_window_bits={bits}"));
        }
        if let Some(bits) = client_bits {
            answer.push_str(&format!("; client_max_window_bits={bits}"));
        }
        Some((
            answer,
            Agreed {
                own_no_context_takeover: server_no_context,
                peer_no_context_takeover: client_no_context,
                own_window_bits: server_bits.unwrap_or(15),
                level: self.level,
            },
        ))
    }

    /// The client's side: checks the server's answer against our offer (RFC 7692 §5:
    /// one extension, ours, with parameters we allowed). `Ok(None)`: the server declined.
    pub(crate) fn check_answer(&self, headers: &HeaderMap) -> Result<Option<Agreed>, String> {
        let mut answers = offers(headers);
        let Some(answer) = answers.next() else {
            return Ok(None);
        };
        if answers.next().is_some() {
            return Err("the server selected more than one extension".into());
        }
        let answer = answer?;
        // §7.1.1.1 / §7.1.2: what the server may say.
        if answer.client_max_window_bits == Some(None)
            || answer.server_max_window_bits == Some(None)
        {
            return Err("a window-bits parameter without a value in the answer".into());
        }
        if let (Some(asked), Some(Some(got))) =
            (self.server_max_window_bits, answer.server_max_window_bits)
        {
            if got > asked {
                return Err(format!(
                    "server_max_window_bits={got} is more than the {asked} asked for"
                ));
            }
        }
        let own_bits = match answer.client_max_window_bits {
            Some(Some(bits)) => {
                if let Some(offered) = self.client_max_window_bits {
                    if bits > offered {
                        return Err(format!(
                            "client_max_window_bits={bits} is more than the {offered} offered"
                        ));
                    }
                }
                bits
            }
            _ => self.client_max_window_bits.unwrap_or(15),
        };
        if self.server_no_context_takeover && !answer.server_no_context_takeover {
            // §7.1.1.1: the server must then include it; tolerated by many clients, but
            // it would leave us unable to tell a context bug from a server bug.
            return Err("server_no_context_takeover was asked for and not agreed".into());
        }
        Ok(Some(Agreed {
            own_no_context_takeover: answer.client_no_context_takeover
                || self.client_no_context_takeover,
            peer_no_context_takeover: answer.server_no_context_takeover,
            own_window_bits: own_bits,
            level: self.level,
        }))
    }
}

/// What both ends agreed, from this end's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Agreed {
    /// We empty our compression window after every message.
    pub(crate) own_no_context_takeover: bool,
    /// The peer empties its window after every message: our decompressor may too.
    pub(crate) peer_no_context_takeover: bool,
    /// The window we compress with (8: stored blocks only, see the module doc).
    pub(crate) own_window_bits: u8,
    pub(crate) level: u32,
}

/// One extension of a `Sec-WebSocket-Extensions` list, if it is permessage-deflate with
/// parameters RFC 7692 defines, each once, with valid values (`Err` otherwise).
/// A window-bits parameter is `Some(None)` when it has no value.
#[derive(Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

/// Every extension in `headers`' `Sec-WebSocket-Extensions` (all lines, in order): a
/// permessage-deflate one parsed, any other (or a malformed one) an `Err`.
fn offers(headers: &HeaderMap) -> impl Iterator<Item = Result<Params, String>> + '_ {
    headers
        .get_all(http::header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .flat_map(|value| match value.to_str() {
            Ok(text) => split_outside_quotes(text, ',')
                .into_iter()
                .filter(|e| !e.trim().is_empty())
                .map(parse_extension)
                .collect::<Vec<_>>(),
            Err(_) => vec![Err(
                "a Sec-WebSocket-Extensions value that is not text".into()
            )],
        })
}

fn parse_extension(text: &str) -> Result<Params, String> {
    let mut parts = split_outside_quotes(text, ';').into_iter();
    let name = parts.next().unwrap_or_default().trim();
    if !name.eq_ignore_ascii_case(NAME) {
        return Err(format!("extension {name:?} is not supported"));
    }
    let mut params = Params::default();
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((key, value)) => (key.trim(), Some(unquote(value.trim()))),
            None => (part.trim(), None),
        };
        let bits = |value: Option<&str>| -> Result<Option<u8>, String> {
            match value {
                None => Ok(None),
                Some(v) => match v.parse::<u8>() {
                    // §7.1.2.1: 1*DIGIT without leading zeros, 8 to 15.
                    Ok(bits @ 8..=15) if !v.starts_with('0') => Ok(Some(bits)),
                    _ => Err(format!("{key}={v:?} is not a window size of 8 to 15 bits")),
                },
            }
        };
        let once = |seen: bool| {
            if seen {
                Err(format!("{key} given twice"))
            } else {
                Ok(())
            }
        };
        match key.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" if value.is_none() => {
                once(params.server_no_context_takeover)?;
                params.server_no_context_takeover = true;
            }
            "client_no_context_takeover" if value.is_none() => {
                once(params.client_no_context_takeover)?;
                params.client_no_context_takeover = true;
            }
            "server_max_window_bits" => {
                once(params.server_max_window_bits.is_some())?;
                params.server_max_window_bits = Some(bits(value.as_deref())?);
            }
            "client_max_window_bits" => {
                once(params.client_max_window_bits.is_some())?;
                params.client_max_window_bits = Some(bits(value.as_deref())?);
            }
            _ => return Err(format!("unknown or malformed parameter {part:?}")),
        }
    }
    Ok(params)
}

/// Splits at `sep` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A quoted-string's content (RFC 7692 §7.1.2.1 allows `"15"`), or the token as is.
fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner.replace('\\', ""),
        None => value.to_owned(),
    }
}

/// Why inflating stopped.
#[derive(Debug)]
pub(crate) enum InflateError {
    /// The message grew past the limit.
    TooBig,
    /// The data is not valid DEFLATE.
    Corrupt(String),
}

/// One connection's compression state, both directions.
pub(crate) struct Deflate {
    agreed: Agreed,
    compress: Compress,
    decompress: Decompress,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("agreed", &self.agreed)
            .finish_non_exhaustive()
    }
}

impl Deflate {
    pub(crate) fn new(agreed: Agreed) -> Self {
        // Window 8 is stored blocks in a 9-bit window (see the module doc).
        let (level, bits) = match agreed.own_window_bits {
            8 => (Compression::none(), 9),
            bits => (Compression::new(agreed.level), bits.clamp(9, 15)),
        };
        Deflate {
            agreed,
            compress: Compress::new_with_window_bits(level, false, bits),
            decompress: Decompress::new_with_window_bits(false, 15),
        }
    }

    /// Compresses one piece of an outgoing message into `out` (appended); `last` ends
    /// the message (its sync-flush tail dropped, the context reset if agreed).
    pub(crate) fn compress(&mut self, mut input: &[u8], last: bool, out: &mut Output) {
        let start = out.len();
        loop {
            // About zlib's bound for a flushed block: the input plus a little.
            out.room(input.len() + (input.len() >> 8) + 64, usize::MAX);
            let (in_before, out_before) = (self.compress.total_in(), self.compress.total_out());
            let status = self
                .compress
                .compress(input, out.spare(), FlushCompress::Sync);
            input = &input[(self.compress.total_in() - in_before) as usize..];
            out.filled += (self.compress.total_out() - out_before) as usize;
            // The flush is complete once all went in and space was left over.
            if (input.is_empty() && out.filled < out.buf.len()) || status.is_err() {
                break;
            }
        }
        if last {
            if out.as_slice()[start..].ends_with(&TAIL) {
                out.filled -= TAIL.len();
            }
            if out.len() == start {
                // Nothing came out (a flush with nothing new to flush): RFC 7692 §7.2.3.6
                // sends an empty message as the single byte 0x00, which with the tail
                // put back is an empty stored block.
                out.extend_from_slice(&[0x00]);
            }
            if self.agreed.own_no_context_takeover {
                self.compress.reset();
            }
        }
    }

    /// Inflates one frame's payload of an incoming message, appending to `out` while it
    /// stays within `limit` bytes; `last` ends the message (its tail put back, the
    /// context reset if the peer does not keep it).
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut Output,
        limit: usize,
    ) -> Result<(), InflateError> {
        if last && input.len() <= SMALL_INPUT {
            // One inflate call for a small last frame: its payload and the tail together.
            let mut joined = [0u8; SMALL_INPUT + TAIL.len()];
            joined[..input.len()].copy_from_slice(input);
            joined[input.len()..input.len() + TAIL.len()].copy_from_slice(&TAIL);
            self.inflate(&joined[..input.len() + TAIL.len()], out, limit)?;
        } else {
            self.inflate(input, out, limit)?;
            if last {
                self.inflate(&TAIL, out, limit)?;
            }
        }
        if last && self.agreed.peer_no_context_takeover {
            self.decompress.reset(false);
        }
        Ok(())
    }

    fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut Output,
        limit: usize,
    ) -> Result<(), InflateError> {
        loop {
            if out.buf.len() - out.filled < INFLATE_CHUNK / 4 {
                // Geometric growth, but never past one byte over the limit: a bomb stops
                // there, having allocated no more than the limit.
                let room = INFLATE_CHUNK.max(input.len().saturating_mul(4));
                out.room(room, limit.saturating_add(1));
            }
            let (in_before, out_before) = (self.decompress.total_in(), self.decompress.total_out());
            let status = self
                .decompress
                .decompress(input, out.spare(), FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            let used = (self.decompress.total_in() - in_before) as usize;
            let produced = (self.decompress.total_out() - out_before) as usize;
            input = &input[used..];
            out.filled += produced;
            if out.filled > limit {
                return Err(InflateError::TooBig);
            }
            if status == Status::StreamEnd {
                // A final block (RFC 7692 §7.2.3.3 allows one): the stream starts anew.
                self.decompress.reset(false);
                if input.is_empty() {
                    return Ok(());
                }
                continue;
            }
            if input.is_empty() && out.filled < out.buf.len() {
                return Ok(());
            }
            if used == 0 && produced == 0 && out.filled < out.buf.len() {
                return Err(InflateError::Corrupt("inflate made no progress".into()));
            }
        }
    }
}

/// A growable output buffer whose bytes past `filled` are initialised already, so that
/// (de)compressing into them needs no zeroing per call — flate2's `*_vec` methods zero
/// all spare capacity on every call, which for a kept 32 KiB buffer was most of the cost
/// of a small compressed message. Kept between messages by the connection.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Initialised to its full length; the content is `buf[..filled]`.
    buf: Vec<u8>,
    filled: usize,
}

impl Output {
    pub(crate) fn len(&self) -> usize {
        self.filled
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    pub(crate) fn clear(&mut self) {
        self.filled = 0;
    }

    /// How much memory the buffer holds.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    pub(crate) fn extend_from_slice(&mut self, data: &[u8]) {
        self.room(data.len(), usize::MAX);
        self.buf[self.filled..self.filled + data.len()].copy_from_slice(data);
        self.filled += data.len();
    }

    /// The content as `Bytes`, the buffer given away (no copy).
    pub(crate) fn into_bytes(mut self) -> Bytes {
        self.buf.truncate(self.filled);
        Bytes::from(self.buf)
    }

    fn spare(&mut self) -> &mut [u8] {
        &mut self.buf[self.filled..]
    }

    /// Makes `room` bytes past the content writable, the whole buffer at most `cap`
    /// bytes; only new memory is zeroed.
    fn room(&mut self, room: usize, cap: usize) {
        let want = self.filled.saturating_add(room);
        if want > self.buf.len() {
            // Doubling, so that appending piece by piece stays linear.
            let target = want
                .max(self.buf.len().saturating_mul(2))
                .min(cap.max(self.filled + 1));
            self.buf.reserve_exact(target - self.buf.len());
            self.buf.resize(target, 0);
        }
    }
}

/// `data` compressed as one message by a fresh compressor.
#[cfg(test)]
fn compress_message(data: &[u8], level: u32) -> Bytes {
    let mut deflate = Deflate::new(Agreed {
        own_no_context_takeover: true,
        peer_no_context_takeover: true,
        own_window_bits: 15,
        level,
    });
    let mut out = Output::default();
    deflate.compress(data, true, &mut out);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                http::header::SEC_WEBSOCKET_EXTENSIONS,
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_server_answers_the_first_offer_it_can_serve() {
        let ours = DeflateConfig::default();
        // (offers, answer)
        let cases: &[(&[&str], Option<&str>)] = &[
            (&[], None),
            (&["x-webkit-deflate-frame"], None),
            (&["permessage-deflate"], Some("permessage-deflate")),
            (
                &["permessage-deflate; client_max_window_bits"],
                Some("permessage-deflate"),
            ),
            (
                &["permessage-deflate; client_max_window_bits=10"],
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                &["permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
            (
                &["permessage-deflate; server_max_window_bits=\"9\""],
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            // 8 cannot be served: the next offer is taken, or none.
            (&["permessage-deflate; server_max_window_bits=8"], None),
            (
                &["permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9"],
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            // Several header lines, an unknown extension first.
            (
                &["foo", "permessage-deflate; client_no_context_takeover"],
                Some("permessage-deflate; client_no_context_takeover"),
            ),
            // Invalid offers are declined.
            (&["permessage-deflate; server_max_window_bits"], None),
            (&["permessage-deflate; server_max_window_bits=16"], None),
            (&["permessage-deflate; server_max_window_bits=09"], None),
            (&["permessage-deflate; client_max_window_bits=7"], None),
            (&["permessage-deflate; foo=1"], None),
            (&["permessage-deflate; server_no_context_takeover=1"], None),
            (
                &["permessage-deflate; client_no_context_takeover; client_no_context_takeover"],
                None,
            ),
        ];
        for (offers, answer) in cases {
            let got = ours.accept(&headers(offers)).map(|(a, _)| a);
            assert_eq!(got.as_deref(), *answer, "case {offers:?}");
        }
        // Our own settings go into the answer.
        let strict = DeflateConfig::default()
            .server_no_context_takeover(true)
            .client_max_window_bits(12)
            .server_max_window_bits(11);
        let (answer, agreed) = strict
            .accept(&headers(&["permessage-deflate; client_max_window_bits"]))
            .unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11; client_max_window_bits=12"
        );
        assert!(agreed.own_no_context_takeover);
        assert_eq!(agreed.own_window_bits, 11);
    }

    #[test]
    fn the_client_checks_the_answer_against_its_offer() {
        let ours = DeflateConfig::default();
        assert_eq!(
            ours.client_offer(),
            "permessage-deflate; client_max_window_bits, \
             permessage-deflate; client_no_context_takeover; client_max_window_bits"
        );
        assert_eq!(
            DeflateConfig::default()
                .client_no_context_takeover(true)
                .client_offer(),
            "permessage-deflate; client_no_context_takeover; client_max_window_bits"
        );
        // (answer, Ok(own window bits) or Err)
        type Case<'a> = (&'a [&'a str], Result<Option<u8>, ()>);
        let cases: &[Case] = &[
            (&[], Ok(None)),
            (&["permessage-deflate"], Ok(Some(15))),
            (
                &["permessage-deflate; client_max_window_bits=9"],
                Ok(Some(9)),
            ),
            (
                &["permessage-deflate; client_max_window_bits=8"],
                Ok(Some(8)),
            ),
            (
                &["permessage-deflate; server_max_window_bits=10"],
                Ok(Some(15)),
            ),
            (&["permessage-deflate; client_max_window_bits"], Err(())),
            (&["permessage-deflate; server_max_window_bits=20"], Err(())),
            (&["permessage-deflate, permessage-deflate"], Err(())),
            (&["x-unknown"], Err(())),
            (&["permessage-deflate; bogus"], Err(())),
        ];
        for (answer, expected) in cases {
            let got = ours
                .check_answer(&headers(answer))
                .map(|a| a.map(|a| a.own_window_bits))
                .map_err(|_| ());
            assert_eq!(&got, expected, "case {answer:?}");
        }
        let asked = DeflateConfig::default()
            .server_max_window_bits(10)
            .client_max_window_bits(11);
        assert!(asked
            .check_answer(&headers(&["permessage-deflate; server_max_window_bits=12"]))
            .is_err());
        assert!(asked
            .check_answer(&headers(&["permessage-deflate; client_max_window_bits=12"]))
            .is_err());
    }

    #[test]
    fn round_trip_with_and_without_context() {
        for no_context in [false, true] {
            for bits in [8u8, 9, 12, 15] {
                let agreed = Agreed {
                    own_no_context_takeover: no_context,
                    peer_no_context_takeover: no_context,
                    own_window_bits: bits,
                    level: 6,
                };
                let (mut tx, mut rx) = (Deflate::new(agreed), Deflate::new(agreed));
                for round in 0..3 {
                    let message = format!("round {round}: ").repeat(500).into_bytes();
                    let mut wire = Output::default();
                    // In two pieces, as a fragmented message.
                    tx.compress(&message[..1000], false, &mut wire);
                    let split = wire.len();
                    tx.compress(&message[1000..], true, &mut wire);
                    let wire = wire.as_slice();
                    let mut got = Output::default();
                    rx.decompress(&wire[..split], false, &mut got, usize::MAX)
                        .unwrap();
                    rx.decompress(&wire[split..], true, &mut got, usize::MAX)
                        .unwrap();
                    assert_eq!(got.as_slice(), message, "case {no_context} {bits} {round}");
                    if bits == 8 {
                        assert!(wire.len() > message.len(), "stored blocks for 8 bits");
                    } else {
                        assert!(wire.len() < message.len() / 4, "case {bits}");
                    }
                }
            }
        }
    }

    #[test]
    fn inflating_stops_at_the_limit() {
        let zeros = vec![0u8; 8 << 20];
        let wire = compress_message(&zeros, 6);
        let mut rx = Deflate::new(Agreed {
            own_no_context_takeover: false,
            peer_no_context_takeover: false,
            own_window_bits: 15,
            level: 1,
        });
        let mut out = Output::default();
        let got = rx.decompress(&wire, true, &mut out, 1 << 20);
        assert!(matches!(got, Err(InflateError::TooBig)), "{got:?}");
        assert!(out.capacity() <= (1 << 20) + 1, "{}", out.capacity());
        let mut rx = Deflate::new(Agreed {
            own_no_context_takeover: false,
            peer_no_context_takeover: false,
            own_window_bits: 15,
            level: 1,
        });
        let mut out = Output::default();
        let got = rx.decompress(b"\xff\xff\xff garbage", true, &mut out, 1 << 20);
        assert!(matches!(got, Err(InflateError::Corrupt(_))), "{got:?}");
    }
}
