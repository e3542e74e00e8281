//! Close codes (RFC 6455 §7.4) and how tungstenite's errors become httpstack [`Error`]s.
//!
//! A connection that ends is a WebSocket close error (HTTP.jl `WebSocketError`) carrying
//! the close frame: the peer's, or the one we sent when the peer broke the protocol
//! (1002), sent invalid UTF-8 or compressed data that does not inflate (1007), or too
//! big a message (1009). A connection dropped without a close frame is 1006. Other
//! failures keep their kinds (I/O: request error).

use std::io;

use tokio_tungstenite::tungstenite::{
    self,
    error::{CapacityError, ProtocolError},
    protocol::frame::coding::CloseCode,
};

use crate::{CloseFrame, Error};

/// 1000: normal closure.
pub const NORMAL: u16 = 1000;
/// 1001: going away (a server shutting down, a page navigated away).
pub const GOING_AWAY: u16 = 1001;
/// 1002: protocol error.
pub const PROTOCOL_ERROR: u16 = 1002;
/// 1005: the close frame had no status code (never sent on the wire).
pub const NO_STATUS: u16 = 1005;
/// 1006: the connection ended without a close frame (never sent on the wire).
pub const ABNORMAL: u16 = 1006;
/// 1007: a TEXT message was not valid UTF-8 (or a compressed one did not inflate).
pub const INVALID_PAYLOAD: u16 = 1007;
/// 1009: a message or frame was larger than the configured maximum.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// 1011: the server met an unexpected condition (a handler failed).
pub const INTERNAL_ERROR: u16 = 1011;

/// RFC 6455 §7.4: whether `code` may be sent in a close frame — 1000–1003, 1007–1014
/// (the codes IANA has assigned for closing, 1004 reserved and 1015 a TLS failure never
/// sent), and 3000–4999 (registered and private). 1005 and 1006 only report what
/// happened; the rest of 0–2999 is reserved.
pub fn is_sendable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// RFC 6455 §5.5: a close frame's payload is at most 125 bytes, two of them the code.
pub const MAX_REASON_BYTES: usize = 123;

/// Checks what [`WebSocket::close`](super::WebSocket::close) is asked to send: a code
/// that may be sent and a reason that fits; an input error otherwise.
pub(crate) fn check_sendable(code: u16, reason: &str) -> Result<(), Error> {
    if !is_sendable(code) {
        return Err(Error::invalid_input(format!(
            "close code {code} may not be sent (RFC 6455 §7.4: 1000–1003, 1007–1014, \
             3000–4999)"
        )));
    }
    if reason.len() > MAX_REASON_BYTES {
        return Err(Error::invalid_input(format!(
            "close reason of {} bytes: at most {MAX_REASON_BYTES} fit in a close frame",
            reason.len()
        )));
    }
    Ok(())
}

/// Ours from tungstenite's: a frame without a body reads as 1005 (RFC 6455 §7.1.5).
pub(crate) fn from_tungstenite(frame: Option<tungstenite::protocol::CloseFrame>) -> CloseFrame {
    match frame {
        Some(frame) => CloseFrame {
            code: u16::from(frame.code),
            reason: frame.reason.as_str().to_owned(),
        },
        None => CloseFrame::new(NO_STATUS, ""),
    }
}

/// Tungstenite's from ours, for sending. 1005 and 1006 must not be sent (RFC 6455 §7.4.1):
/// they become a frame without a body.
pub(crate) fn to_tungstenite(frame: &CloseFrame) -> Option<tungstenite::protocol::CloseFrame> {
    if matches!(frame.code, NO_STATUS | ABNORMAL) {
        return None;
    }
    // RFC 6455 §5.5: a control frame's payload is at most 125 bytes, 2 of them the code.
    let mut end = frame.reason.len().min(123);
    while !frame.reason.is_char_boundary(end) {
        end -= 1;
    }
    Some(tungstenite::protocol::CloseFrame {
        code: CloseCode::from(frame.code),
        reason: frame.reason[..end].into(),
    })
}

/// What a failed read or write means.
pub(crate) enum Failure {
    /// The connection is over; the peer broke the protocol and should get this close
    /// frame (if the connection can still carry it).
    Fail(CloseFrame, Error),
    /// The connection is over, nothing more to send.
    Closed(Error),
    /// This operation failed; the connection may still be usable.
    Other(Error),
}

/// Classifies a tungstenite error. `close` is the close frame already exchanged, if any.
pub(crate) fn classify(err: tungstenite::Error, close: Option<&CloseFrame>) -> Failure {
    use tungstenite::Error as E;
    let fail = |code: u16, reason: &str, source: tungstenite::Error| {
        let frame = CloseFrame::new(code, reason);
        Failure::Fail(frame.clone(), Error::websocket(frame).with_source(source))
    };
    match err {
        E::ConnectionClosed | E::AlreadyClosed => Failure::Closed(Error::websocket(
            close
                .cloned()
                .unwrap_or_else(|| CloseFrame::new(ABNORMAL, "connection closed")),
        )),
        E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Failure::Closed(
            Error::websocket(CloseFrame::new(
                ABNORMAL,
                "connection closed without a close frame",
            ))
            .with_source(err),
        ),
        E::Protocol(ProtocolError::SendAfterClosing) => Failure::Closed(Error::websocket(
            close
                .cloned()
                .unwrap_or_else(|| CloseFrame::new(NORMAL, "closed")),
        )),
        E::Protocol(_) => fail(PROTOCOL_ERROR, "protocol error", err),
        // The message layer reports undecodable compressed data this way too (1007:
        // data not consistent with the message's type, RFC 6455 §7.4.1).
        E::Utf8(ref why) if why.starts_with("invalid compressed data") => {
            fail(INVALID_PAYLOAD, "invalid compressed data", err)
        }
        E::Utf8(_) => fail(INVALID_PAYLOAD, "invalid UTF-8", err),
        E::Capacity(CapacityError::MessageTooLong { .. }) => {
            fail(MESSAGE_TOO_BIG, "message too big", err)
        }
        E::Capacity(_) => fail(PROTOCOL_ERROR, "protocol error", err),
        E::AttackAttempt => fail(PROTOCOL_ERROR, "protocol error", err),
        E::Io(io) if is_reset(&io) => Failure::Closed(
            Error::websocket(CloseFrame::new(ABNORMAL, "connection reset")).with_source(io),
        ),
        E::Io(io) => Failure::Closed(Error::request(io)),
        other => Failure::Other(Error::request(other)),
    }
}

fn is_reset(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_close_codes() {
        let cases: Vec<(tungstenite::Error, Option<u16>)> = vec![
            (
                tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake),
                Some(ABNORMAL),
            ),
            (
                tungstenite::Error::Protocol(ProtocolError::NonZeroReservedBits),
                Some(PROTOCOL_ERROR),
            ),
            (
                tungstenite::Error::Utf8("bad".into()),
                Some(INVALID_PAYLOAD),
            ),
            (
                tungstenite::Error::Capacity(CapacityError::MessageTooLong {
                    size: 2,
                    max_size: 1,
                }),
                Some(MESSAGE_TOO_BIG),
            ),
            (tungstenite::Error::ConnectionClosed, Some(ABNORMAL)),
            (
                tungstenite::Error::Io(io::ErrorKind::PermissionDenied.into()),
                None,
            ),
        ];
        for (err, code) in cases {
            let described = err.to_string();
            let got = match classify(err, None) {
                Failure::Fail(_, e) | Failure::Closed(e) | Failure::Other(e) => {
                    e.close_frame().map(|f| f.code)
                }
            };
            assert_eq!(got, code, "case {described}");
        }
    }

    #[test]
    fn sendable_codes_are_rfc_6455_s() {
        let cases: &[(u16, bool)] = &[
            (0, false),
            (999, false),
            (1000, true),
            (1003, true),
            (1004, false),
            (1005, false),
            (1006, false),
            (1007, true),
            (1011, true),
            (1014, true),
            (1015, false),
            (1016, false),
            (2999, false),
            (3000, true),
            (4999, true),
            (5000, false),
        ];
        for &(code, sendable) in cases {
            assert_eq!(is_sendable(code), sendable, "case {code}");
            assert_eq!(check_sendable(code, "").is_ok(), sendable, "case {code}");
        }
        assert!(check_sendable(1000, &"x".repeat(123)).is_ok());
        let err = check_sendable(1000, &"x".repeat(124)).unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
    }

    #[test]
    fn reason_is_cut_at_123_bytes_on_a_char_boundary() {
        let frame = CloseFrame::new(1000, "é".repeat(100));
        let sent = to_tungstenite(&frame).map(|f| f.reason.len());
        assert_eq!(sent, Some(122));
        assert!(to_tungstenite(&CloseFrame::new(NO_STATUS, "")).is_none());
    }
}
