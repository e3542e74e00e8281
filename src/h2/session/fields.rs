//! The checks RFC 9113 §8.2–§8.3 make on a received field list; a list that fails one is
//! malformed, a stream error of type PROTOCOL_ERROR (§8.1.1).

use crate::h2::hpack::Field;

/// What kind of header block is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Block {
    Request,
    Response,
    Trailers,
}

/// `Err(reason)` for a malformed list.
pub(super) fn check(fields: &[Field], block: Block) -> Result<(), &'static str> {
    let mut regular_seen = false;
    let (mut method, mut scheme, mut path, mut authority, mut status, mut protocol) =
        (None, false, false, false, false, false);
    for field in fields {
        let name = &field.name[..];
        if name.is_empty() {
            return Err("empty field name");
        }
        // §8.2.1: names are lowercase; no field contains NUL, CR or LF, and a value has
        // no leading or trailing whitespace.
        if name.iter().any(|&b| {
            b.is_ascii_uppercase()
                || b == 0
                || b == b'\r'
                || b == b'\n'
                || b == b':' && name[0] != b':'
        }) {
            return Err("invalid character in a field name");
        }
        let value = &field.value[..];
        if value.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n') {
            return Err("invalid character in a field value");
        }
        if value.first().is_some_and(|b| *b == b' ' || *b == b'\t')
            || value.last().is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            return Err("whitespace around a field value");
        }
        if name[0] == b':' {
            // §8.3: pseudo-headers come first, are known, once each, not in trailers.
            if regular_seen {
                return Err("pseudo-header after a regular field");
            }
            let seen = match (block, name) {
                (Block::Request, b":method") => {
                    let was = method.is_some();
                    method = Some(value == b"CONNECT");
                    was
                }
                (Block::Request, b":scheme") => std::mem::replace(&mut scheme, true),
                (Block::Request, b":path") => {
                    if value.is_empty() {
                        return Err("empty :path");
                    }
                    std::mem::replace(&mut path, true)
                }
                (Block::Request, b":authority") => std::mem::replace(&mut authority, true),
                (Block::Request, b":protocol") => std::mem::replace(&mut protocol, true),
                (Block::Response, b":status") => {
                    if value.len() != 3 || !value.iter().all(u8::is_ascii_digit) {
                        return Err("invalid :status");
                    }
                    std::mem::replace(&mut status, true)
                }
                _ => return Err("unknown or misplaced pseudo-header"),
            };
            if seen {
                return Err("repeated pseudo-header");
            }
        } else {
            regular_seen = true;
            // §8.2.2: connection-specific fields.
            match name {
                b"connection" | b"proxy-connection" | b"keep-alive" | b"transfer-encoding"
                | b"upgrade" => return Err("connection-specific field"),
                b"te" if value != b"trailers" => return Err("te other than trailers"),
                _ => {}
            }
        }
    }
    match block {
        Block::Request => match method {
            None => Err("request without :method"),
            // §8.5: CONNECT has :authority and no :scheme or :path (unless extended).
            Some(true) if !protocol => {
                if scheme || path || !authority {
                    Err("malformed CONNECT request")
                } else {
                    Ok(())
                }
            }
            Some(_) if !scheme || !path => Err("request without :scheme or :path"),
            Some(_) => Ok(()),
        },
        Block::Response if !status => Err("response without :status"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(pairs: &[(&str, &str)]) -> Vec<Field> {
        pairs.iter().map(|(n, v)| Field::new(n, v)).collect()
    }

    #[test]
    fn malformed_lists() {
        let get = [(":method", "GET"), (":scheme", "http"), (":path", "/")];
        type Case<'a> = (&'a [(&'a str, &'a str)], Block, bool);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            (&get, Block::Request, true),
            (&[(":method", "GET"), (":path", "/")], Block::Request, false),
            (&[(":method", "GET"), (":scheme", "http"), (":path", "")], Block::Request, false),
            (&[(":method", "GET"), (":method", "GET"), (":scheme", "http"), (":path", "/")], Block::Request, false),
            (&[(":method", "GET"), ("a", "b"), (":scheme", "http"), (":path", "/")], Block::Request, false),
            (&[(":method", "GET"), (":scheme", "http"), (":path", "/"), ("Host", "x")], Block::Request, false),
            (&[(":method", "GET"), (":scheme", "http"), (":path", "/"), ("connection", "close")], Block::Request, false),
            (&[(":method", "GET"), (":scheme", "http"), (":path", "/"), ("te", "trailers")], Block::Request, true),
            (&[(":method", "GET"), (":scheme", "http"), (":path", "/"), ("te", "gzip")], Block::Request, false),
            (&[(":method", "GET"), (":scheme", "http"), (":path", "/"), (":status", "200")], Block::Request, false),
            (&[(":method", "CONNECT"), (":authority", "h:1")], Block::Request, true),
            (&[(":method", "CONNECT"), (":authority", "h:1"), (":path", "/")], Block::Request, false),
            (&[(":status", "200"), ("x", "y")], Block::Response, true),
            (&[(":status", "20")], Block::Response, false),
            (&[("x", "y")], Block::Response, false),
            (&[("x", " y")], Block::Trailers, false),
            (&[("x", "a\nb")], Block::Trailers, false),
            (&[("grpc-status", "0")], Block::Trailers, true),
            (&[(":status", "200")], Block::Trailers, false),
        ];
        for (pairs, block, ok) in cases {
            assert_eq!(
                check(&list(pairs), *block).is_ok(),
                *ok,
                "{pairs:?} as {block:?}"
            );
        }
    }
}
