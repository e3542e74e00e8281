//! [`Message`]: a whole WebSocket data message, text or binary (RFC 6455 §5.6).

use bytes::Bytes;
use tokio_tungstenite::tungstenite;

pub use tungstenite::Utf8Bytes;

/// A whole data message, as [`receive`](super::WebSocket::receive) returns it and
/// [`send`](super::WebSocket::send) takes it (HTTP.jl: a `String` for TEXT, bytes for
/// BINARY). Control frames (ping, pong, close) are not messages: pings are answered,
/// pongs skipped, and a close ends the connection with a close error.
///
/// Text is [`Utf8Bytes`] — a `str` over shared [`Bytes`] — rather than `String`: a
/// received payload is a slice of the read buffer, checked for UTF-8 once and never
/// copied. It derefs to `&str`; `String::from(text)` or `text.to_string()` give a
/// `String` when one is needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A TEXT message: valid UTF-8.
    Text(Utf8Bytes),
    /// A BINARY message.
    Binary(Bytes),
}

impl Message {
    /// The text of a TEXT message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            Message::Binary(_) => None,
        }
    }

    /// The payload bytes, for either kind.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a TEXT message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a BINARY message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// The payload as bytes, without copying.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(text) => Bytes::from(text),
            Message::Binary(bytes) => bytes,
        }
    }

    pub(crate) fn into_tungstenite(self) -> tungstenite::Message {
        match self {
            Message::Text(text) => tungstenite::Message::Text(text),
            Message::Binary(bytes) => tungstenite::Message::Binary(bytes),
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text.into())
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl From<Utf8Bytes> for Message {
    fn from(text: Utf8Bytes) -> Self {
        Message::Text(text)
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Message::Binary(bytes)
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes.into())
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Message::Binary(Bytes::copy_from_slice(bytes))
    }
}

impl<const N: usize> From<&[u8; N]> for Message {
    fn from(bytes: &[u8; N]) -> Self {
        Message::Binary(Bytes::copy_from_slice(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_the_kind() {
        let cases: [(Message, bool, &[u8]); 5] = [
            (Message::from("hi"), true, b"hi"),
            (Message::from(String::from("hé")), true, "hé".as_bytes()),
            (Message::from(vec![1u8, 2]), false, &[1, 2]),
            (Message::from(Bytes::from_static(b"x")), false, b"x"),
            (Message::from(b"ab"), false, b"ab"),
        ];
        for (message, text, bytes) in cases {
            assert_eq!(message.is_text(), text, "{message:?}");
            assert_eq!(message.as_bytes(), bytes, "{message:?}");
            assert_eq!(message.clone().into_bytes(), bytes, "{message:?}");
        }
        assert_eq!(Message::from("hi").as_text(), Some("hi"));
    }
}
