//! The compiled log format: the format string parsed once, at start-up, into literal
//! pieces and variables, with the list of request and response headers it reads.

use http::HeaderName;

use crate::error::Error;

/// HTTP.jl's `common_logfmt`: the Common Log Format.
pub const COMMON_LOG_FORMAT: &str =
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent";

/// HTTP.jl's `combined_logfmt`: the Common Log Format plus referer and user agent.
pub const COMBINED_LOG_FORMAT: &str = "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"";

/// The fixed variable names, for parsing and for the error message that lists them.
const VARIABLES: &[(&str, Piece)] = &[
    ("remote_addr", Piece::RemoteAddr),
    ("remote_port", Piece::RemotePort),
    ("remote_user", Piece::RemoteUser),
    ("request", Piece::Request),
    ("request_method", Piece::RequestMethod),
    ("request_uri", Piece::RequestUri),
    ("server_protocol", Piece::ServerProtocol),
    ("status", Piece::Status),
    ("body_bytes_sent", Piece::BodyBytesSent),
    ("time_iso8601", Piece::TimeIso8601),
    ("time_local", Piece::TimeLocal),
];

/// One piece of a log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Literal(Box<str>),
    RemoteAddr,
    RemotePort,
    RemoteUser,
    Request,
    RequestMethod,
    RequestUri,
    ServerProtocol,
    Status,
    BodyBytesSent,
    TimeIso8601,
    TimeLocal,
    /// `$http_<name>`: index into [`LogFormat::request_headers`].
    RequestHeader(usize),
    /// `$sent_http_<name>`: index into [`LogFormat::response_headers`].
    ResponseHeader(usize),
}

/// What a request must capture for this format, so nothing else is copied per request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    pub(crate) method: bool,
    pub(crate) uri: bool,
    pub(crate) remote: bool,
    pub(crate) authorization: bool,
    pub(crate) time: bool,
}

/// A parsed format string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogFormat {
    pub(crate) pieces: Vec<Piece>,
    /// Request headers read by `$http_*`, each once.
    pub(crate) request_headers: Vec<HeaderName>,
    /// Response headers read by `$sent_http_*`, each once.
    pub(crate) response_headers: Vec<HeaderName>,
    pub(crate) needs: Needs,
}

impl LogFormat {
    /// Parses an nginx / HTTP.jl `logfmt` string: `$name` or `${name}` is a variable (the
    /// name runs over ASCII letters, digits and `_`), `$$` is a literal `$`, the rest is
    /// copied. An unknown variable is an error naming it and its byte offset.
    pub(crate) fn parse(format: &str) -> Result<LogFormat, Error> {
        let mut parsed = LogFormat::default();
        let mut literal = String::new();
        let mut rest = format;
        let mut at = 0;
        while let Some(dollar) = rest.find('$') {
            literal.push_str(&rest[..dollar]);
            let pos = at + dollar;
            let after = &rest[dollar + 1..];
            let (name, used) = if let Some(escaped) = after.strip_prefix('$') {
                literal.push('$');
                rest = escaped;
                at = pos + 2;
                continue;
            } else if let Some(braced) = after.strip_prefix('{') {
                let end = braced.find('}').ok_or_else(|| {
                    Error::invalid_input(format!(
                        "access log format: `${{` at byte {pos} has no closing `}}`"
                    ))
                })?;
                (&braced[..end], end + 2)
            } else {
                let len = after
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                (&after[..len], len)
            };
            if name.is_empty() {
                return Err(Error::invalid_input(format!(
                    "access log format: `$` at byte {pos} is not followed by a variable name \
                     (write `$$` for a literal `$`)"
                )));
            }
            let piece = parsed.variable(name, pos)?;
            if !literal.is_empty() {
                parsed
                    .pieces
                    .push(Piece::Literal(std::mem::take(&mut literal).into()));
            }
            parsed.pieces.push(piece);
            rest = &after[used..];
            at = pos + 1 + used;
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parsed.pieces.push(Piece::Literal(literal.into()));
        }
        Ok(parsed)
    }

    /// Resolves one variable name (without `$` or braces) found at byte `pos`.
    fn variable(&mut self, name: &str, pos: usize) -> Result<Piece, Error> {
        if let Some((_, piece)) = VARIABLES.iter().find(|(known, _)| *known == name) {
            let needs = &mut self.needs;
            match piece {
                Piece::Request => {
                    needs.method = true;
                    needs.uri = true;
                }
                Piece::RequestMethod => needs.method = true,
                Piece::RequestUri => needs.uri = true,
                Piece::RemoteAddr | Piece::RemotePort => needs.remote = true,
                Piece::RemoteUser => needs.authorization = true,
                Piece::TimeIso8601 | Piece::TimeLocal => needs.time = true,
                _ => {}
            }
            return Ok(piece.clone());
        }
        if let Some(header) = name.strip_prefix("sent_http_") {
            let header = header_name(header, name, pos)?;
            return Ok(Piece::ResponseHeader(index_of(
                &mut self.response_headers,
                header,
            )));
        }
        if let Some(header) = name.strip_prefix("http_") {
            let header = header_name(header, name, pos)?;
            return Ok(Piece::RequestHeader(index_of(
                &mut self.request_headers,
                header,
            )));
        }
        let known: Vec<String> = VARIABLES.iter().map(|(n, _)| format!("${n}")).collect();
        Err(Error::invalid_input(format!(
            "access log format: unknown variable `${name}` at byte {pos} (known: {}, \
             $http_<header>, $sent_http_<header>)",
            known.join(", ")
        )))
    }
}

/// `user_agent` → `user-agent` (HTTP.jl: `_` in the variable stands for `-`).
fn header_name(suffix: &str, variable: &str, pos: usize) -> Result<HeaderName, Error> {
    let wanted = suffix.replace('_', "-").to_ascii_lowercase();
    HeaderName::from_bytes(wanted.as_bytes()).map_err(|_| {
        Error::invalid_input(format!(
            "access log format: `${variable}` at byte {pos} does not name a header"
        ))
    })
}

fn index_of(names: &mut Vec<HeaderName>, name: HeaderName) -> usize {
    match names.iter().position(|n| *n == name) {
        Some(i) => i,
        None => {
            names.push(name);
            names.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Piece {
        Piece::Literal(s.into())
    }

    #[test]
    fn parses_literals_variables_and_braces() {
        let cases: &[(&str, Vec<Piece>)] = &[
            ("", vec![]),
            ("plain", vec![lit("plain")]),
            ("$status", vec![Piece::Status]),
            (
                "[$status]$body_bytes_sent.",
                vec![
                    lit("["),
                    Piece::Status,
                    lit("]"),
                    Piece::BodyBytesSent,
                    lit("."),
                ],
            ),
            ("${status}ms", vec![Piece::Status, lit("ms")]),
            ("$$ $$$status", vec![lit("$ $"), Piece::Status]),
            ("$http_user_agent", vec![Piece::RequestHeader(0)]),
            ("${sent_http_x_id}", vec![Piece::ResponseHeader(0)]),
            ("é$status€", vec![lit("é"), Piece::Status, lit("€")]),
        ];
        for (format, expected) in cases {
            let parsed = LogFormat::parse(format).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(&parsed.pieces, expected, "format {format:?}");
        }
    }

    #[test]
    fn header_variables_are_deduplicated_and_mapped() {
        let f = LogFormat::parse("$http_x_forwarded_for $http_X_Forwarded_For $sent_http_etag")
            .unwrap();
        assert_eq!(f.request_headers, ["x-forwarded-for"]);
        assert_eq!(f.response_headers, ["etag"]);
        assert_eq!(
            f.pieces,
            [
                Piece::RequestHeader(0),
                lit(" "),
                Piece::RequestHeader(0),
                lit(" "),
                Piece::ResponseHeader(0)
            ]
        );
    }

    #[test]
    fn needs_follow_the_variables() {
        let f = LogFormat::parse("$status $body_bytes_sent").unwrap();
        assert_eq!(f.needs, Needs::default());
        let f = LogFormat::parse(COMBINED_LOG_FORMAT).unwrap();
        assert_eq!(
            f.needs,
            Needs {
                method: true,
                uri: true,
                remote: true,
                authorization: true,
                time: true
            }
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        for (format, needle) in [
            ("ok $nope here", "unknown variable `$nope` at byte 3"),
            ("${status", "`${` at byte 0 has no closing `}`"),
            ("a $ b", "`$` at byte 2 is not followed by a variable name"),
            ("$", "`$` at byte 0"),
            ("x $http_", "`$http_` at byte 2 does not name a header"),
            (
                "${http_a b}",
                "`$http_a b` at byte 0 does not name a header",
            ),
            ("€$request_time", "`$request_time` at byte 3"),
        ] {
            let err = LogFormat::parse(format).unwrap_err();
            assert!(err.is_invalid_input(), "{format:?}");
            assert!(
                err.to_string().contains(needle),
                "{format:?}: {err} lacks {needle:?}"
            );
        }
    }

    #[test]
    fn presets_parse() {
        assert!(LogFormat::parse(COMMON_LOG_FORMAT).is_ok());
        assert!(LogFormat::parse(COMBINED_LOG_FORMAT).is_ok());
    }
}
