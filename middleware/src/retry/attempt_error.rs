//! Which failures of an attempt can be retried, read off the error and its source chain.
//!
//! The retry layer keeps the inner service's error type. To judge an error it only needs
//! to see it as a `std::error::Error` and walk its `source()` chain, which works the same
//! for httpstack's own [`Error`] (whose source is the transport's error), a `BoxError`,
//! or anything else implementing [`AttemptError`].
//!
//! What only the transport can know — an HTTP/2 stream refused or drained by a graceful
//! `GOAWAY` — it records on the [`Error`] as a [`Delivery`]; this module reads that
//! marker, never the transport's own error types. Beyond it the chain is read through
//! hyper's error (the body type's crate) and `std::io::Error`.

use std::convert::Infallible;
use std::error::Error as StdError;

use http::StatusCode;

use crate::error::{BoxError, Delivery, Error, ErrorKind, TimeoutKind};

/// An inner service's error, as the retry layer sees it.
///
/// Implemented for httpstack's [`Error`], `BoxError`, `hyper::Error`, `std::io::Error`
/// and `Infallible`. For another error type of yours, return it from
/// [`as_error`](AttemptError::as_error) (its source chain is then read as below) and, if
/// it can say so, record the retry count in
/// [`record_retries`](AttemptError::record_retries). A bare hyper-util legacy client's
/// error (a foreign type) goes through `map_err` first: into a `BoxError`, which classifies
/// connection refusals and hyper's own errors, or — for the HTTP/2 rules — into an
/// [`Error`] with its [`Delivery`] recorded (httpstack's `client::transport_error` does
/// this as the client's own transport does).
///
/// Retried (any method, since the request never reached the server): connect errors,
/// connect timeouts and refused connections; an error marked [`Delivery::NotSent`] (an
/// HTTP/2 stream refused with `REFUSED_STREAM` or cut by a graceful `GOAWAY`; RFC 9113
/// §8.7: neither was processed). Retried for idempotent requests: I/O
/// errors and read timeouts before a response, a pooled connection that was closed under
/// the request, other HTTP/2 resets, and status errors with a retried status. Everything
/// else (invalid input, body errors, malformed responses, unknown errors) is not retried
/// unless a `retry_check` says so.
pub trait AttemptError {
    /// The error as a `std::error::Error`, to classify it and pass it to `retry_check`.
    fn as_error(&self) -> Option<&(dyn StdError + 'static)>;

    /// Records how many retries were made before this final error (httpstack's [`Error`]
    /// shows it in its message). The default does nothing.
    fn record_retries(&mut self, retries: usize) {
        let _ = retries;
    }
}

impl AttemptError for Error {
    fn as_error(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self)
    }

    fn record_retries(&mut self, retries: usize) {
        let error = std::mem::replace(self, Error::new(ErrorKind::Request));
        *self = error.with_retries(retries);
    }
}

impl AttemptError for BoxError {
    fn as_error(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&**self)
    }

    fn record_retries(&mut self, retries: usize) {
        if let Some(error) = self.downcast_mut::<Error>() {
            error.record_retries(retries);
        }
    }
}

impl AttemptError for hyper::Error {
    fn as_error(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self)
    }
}

impl AttemptError for std::io::Error {
    fn as_error(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self)
    }
}

impl AttemptError for Infallible {
    fn as_error(&self) -> Option<&(dyn StdError + 'static)> {
        match *self {}
    }
}

/// In an error's source chain, says the peer refused on purpose (a proxy answering 407 to
/// `CONNECT`, say): trying again would be refused the same way, so the attempt is not
/// retried whatever its kind.
///
/// It carries the refusal's own message, since reporters that walk the chain print the
/// innermost link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Refused {}

/// What a failed attempt tells about retrying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The request never reached the server: safe to resend whatever the method.
    NotSent,
    /// The exchange broke; the server may have acted on the request.
    Transport,
    /// The server answered with this status (an httpstack status error).
    Status(StatusCode),
    /// Not worth retrying: it would fail the same way.
    Fatal,
}

/// Classifies an error by walking its source chain: the first link that knows for sure
/// decides; links that only know "the transport broke" leave room for an inner link
/// (a refused connection under a hyper-util error) to say the request was never sent.
pub(crate) fn classify(error: &(dyn StdError + 'static)) -> Failure {
    if std::iter::successors(Some(error), |e| (*e).source()).any(|e| e.is::<Refused>()) {
        return Failure::Fatal;
    }
    let mut guess = None;
    for link in std::iter::successors(Some(error), |e| (*e).source()) {
        match classify_link(link) {
            Some(Failure::Transport) => guess = Some(Failure::Transport),
            Some(decided) => return decided,
            None => {}
        }
    }
    guess.unwrap_or(Failure::Fatal)
}

/// A TLS handshake that failed on its merits (an untrusted or mismatched certificate, no
/// common protocol): trying again would fail the same way. TLS libraries under tokio
/// (tokio-rustls, tokio-native-tls) report these as `io::ErrorKind::InvalidData`.
fn is_tls_rejection(error: &(dyn StdError + 'static)) -> bool {
    std::iter::successors(error.source(), |e| (*e).source()).any(|e| {
        // An `io::Error` wrapping another hides it from `source()` (std skips the
        // wrapped error itself), so unwrap nested ones by hand.
        let mut io = e.downcast_ref::<std::io::Error>();
        while let Some(err) = io {
            if err.kind() == std::io::ErrorKind::InvalidData {
                return true;
            }
            io = err
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>());
        }
        false
    })
}

fn classify_link(e: &(dyn StdError + 'static)) -> Option<Failure> {
    if let Some(e) = e.downcast_ref::<Error>() {
        return match e.kind() {
            ErrorKind::Connect if is_tls_rejection(e) => Some(Failure::Fatal),
            ErrorKind::Connect | ErrorKind::Timeout(TimeoutKind::Connect) => Some(Failure::NotSent),
            ErrorKind::Status(status) => Some(Failure::Status(*status)),
            ErrorKind::Request | ErrorKind::Timeout(_) => match e.delivery() {
                Some(Delivery::NotSent) => Some(Failure::NotSent),
                _ => Some(Failure::Transport),
            },
            _ => Some(Failure::Fatal),
        };
    }
    if let Some(e) = e.downcast_ref::<hyper::Error>() {
        if e.is_parse() || e.is_user() {
            return Some(Failure::Fatal);
        }
        let broke = e.is_incomplete_message()
            || e.is_closed()
            || e.is_canceled()
            || e.is_timeout()
            || e.is_body_write_aborted();
        return broke.then_some(Failure::Transport);
    }
    if let Some(e) = e.downcast_ref::<std::io::Error>() {
        // Refused or unreachable: the connection never opened, nothing was written.
        use std::io::ErrorKind as Io;
        let not_sent = matches!(
            e.kind(),
            Io::ConnectionRefused | Io::HostUnreachable | Io::NetworkUnreachable
        );
        return Some(if not_sent {
            Failure::NotSent
        } else {
            Failure::Transport
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_anywhere_in_the_chain_is_not_retried() {
        #[derive(Debug)]
        struct ProxySaidNo(Refused);
        impl std::fmt::Display for ProxySaidNo {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("407")
            }
        }
        impl StdError for ProxySaidNo {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let err = Error::connect(ProxySaidNo(Refused("407".into())));
        assert_eq!(classify(&err), Failure::Fatal);
    }

    #[test]
    fn a_rejected_tls_handshake_is_not_retried() {
        // What hyper-rustls and tokio-rustls make of a certificate the client refuses.
        let tls = std::io::Error::new(std::io::ErrorKind::InvalidData, "UnknownIssuer");
        let wrapped = std::io::Error::other(tls);
        let err = Error::connect(wrapped);
        assert_eq!(classify(&err), Failure::Fatal);
        let refused = Error::connect(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(classify(&refused), Failure::NotSent);
    }

    #[test]
    fn errors_are_classified_by_their_chain() {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let status = || {
            let resp = http::Response::builder()
                .status(503)
                .body(bytes::Bytes::new());
            Error::status_error(resp.unwrap())
        };
        let cases: Vec<(&str, BoxError, Failure)> = vec![
            ("connect", Box::new(Error::connect(io())), Failure::NotSent),
            (
                "connect timeout",
                Box::new(Error::timeout(TimeoutKind::Connect)),
                Failure::NotSent,
            ),
            (
                "read timeout",
                Box::new(Error::timeout(TimeoutKind::Read)),
                Failure::Transport,
            ),
            (
                "request io",
                Box::new(Error::request(io())),
                Failure::Transport,
            ),
            (
                "status",
                Box::new(status()),
                Failure::Status(StatusCode::SERVICE_UNAVAILABLE),
            ),
            (
                "invalid url",
                Box::new(Error::invalid_url("x")),
                Failure::Fatal,
            ),
            ("body", Box::new(Error::body(io())), Failure::Fatal),
            ("bare io", Box::new(io()), Failure::Transport),
            ("unknown", "something".into(), Failure::Fatal),
            (
                "marked not sent",
                Box::new(Error::request(io()).with_delivery(Delivery::NotSent)),
                Failure::NotSent,
            ),
            (
                "marked aborted",
                Box::new(Error::request(io()).with_delivery(Delivery::Aborted)),
                Failure::Transport,
            ),
            (
                "refused under a request error",
                Box::new(Error::request(std::io::Error::from(
                    std::io::ErrorKind::ConnectionRefused,
                ))),
                Failure::NotSent,
            ),
            (
                "bare refused",
                Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
                Failure::NotSent,
            ),
        ];
        for (name, error, expected) in cases {
            assert_eq!(classify(&*error), expected, "case {name}: {error}");
        }
    }

    #[test]
    fn retries_are_recorded_on_httpstack_errors_even_boxed() {
        let mut error = Error::timeout(TimeoutKind::Read);
        error.record_retries(3);
        assert_eq!(error.retries(), Some(3));
        let mut boxed: BoxError = Box::new(Error::timeout(TimeoutKind::Read));
        boxed.record_retries(2);
        assert!(boxed.to_string().ends_with("after 2 retries"), "{boxed}");
    }
}
