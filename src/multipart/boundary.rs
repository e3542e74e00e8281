//! Boundaries: RFC 2046 §5.1.1's rules for them, a random one, and reading one from a
//! `Content-Type` (RFC 9110 §8.3.1 media type, §5.6.6 parameters).

use super::MultipartError;

/// RFC 2046 §5.1.1: a boundary is at most 70 characters.
pub(super) const MAX_BOUNDARY_LEN: usize = 70;

/// A random boundary of 32 hex digits (HTTP.jl's `string(rand(UInt128), base=16)`), too
/// long to occur in data by chance.
pub(super) fn random_boundary() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// RFC 2046 §5.1.1: `bchars := bcharsnospace / " "`, `boundary := 0*69<bchars>
/// bcharsnospace`.
pub(super) fn check_boundary(boundary: &str) -> Result<(), MultipartError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b);
    let reason = if boundary.is_empty() {
        "it is empty"
    } else if boundary.len() > MAX_BOUNDARY_LEN {
        "it is longer than 70 characters (RFC 2046 §5.1.1)"
    } else if !boundary.bytes().all(allowed) {
        "RFC 2046 §5.1.1 allows only letters, digits, '()+_,-./:=? and space"
    } else if boundary.ends_with(' ') {
        "it ends in a space (RFC 2046 §5.1.1)"
    } else {
        return Ok(());
    };
    Err(MultipartError::InvalidBoundary {
        boundary: boundary.chars().take(80).collect(),
        reason,
    })
}

/// `multipart/<subtype>; boundary=...`, the boundary quoted when it is not a token
/// (RFC 9110 §5.6.6).
pub(super) fn content_type_value(subtype: &str, boundary: &str) -> String {
    let is_token = boundary
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"'+_-.".contains(&b));
    if is_token {
        format!("multipart/{subtype}; boundary={boundary}")
    } else {
        format!("multipart/{subtype}; boundary=\"{boundary}\"")
    }
}

/// The checked boundary of a `multipart/*` `Content-Type`.
pub(super) fn multipart_boundary(content_type: &str) -> Result<String, MultipartError> {
    let (media_type, mut params) = content_type.split_once(';').unwrap_or((content_type, ""));
    let is_multipart = media_type
        .trim_matches([' ', '\t'])
        .split_once('/')
        .is_some_and(|(kind, subtype)| {
            kind.eq_ignore_ascii_case("multipart") && !subtype.is_empty()
        });
    if !is_multipart {
        return Err(MultipartError::NotMultipart);
    }
    // parameters = *( OWS ";" OWS [ parameter ] ), parameter = name "=" ( token / quoted-string )
    loop {
        params = params.trim_start_matches([' ', '\t', ';']);
        if params.is_empty() {
            return Err(MultipartError::MissingBoundary);
        }
        let name_end = params.find(['=', ';']).unwrap_or(params.len());
        let name = params[..name_end].trim_end_matches([' ', '\t']);
        params = &params[name_end..];
        let Some(rest) = params.strip_prefix('=') else {
            continue; // a parameter without a value: skipped
        };
        let (value, rest) = match rest.strip_prefix('"') {
            Some(quoted) => quoted_string(quoted).ok_or(MultipartError::MissingBoundary)?,
            None => {
                let end = rest.find([';', ' ', '\t']).unwrap_or(rest.len());
                (rest[..end].to_owned(), &rest[end..])
            }
        };
        params = rest;
        if name.eq_ignore_ascii_case("boundary") {
            check_boundary(&value)?;
            return Ok(value);
        }
    }
}

/// The value of a quoted-string whose opening quote is gone, and what follows its
/// closing quote; `None` when it never closes. RFC 9110 §5.6.4: `\` quotes the next
/// character.
fn quoted_string(input: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = input.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &input[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_from_content_types() {
        let seventy = "b".repeat(70);
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("multipart/mixed; boundary=abc", Ok("abc")),
            ("Multipart/Mixed;Boundary=abc;charset=x", Ok("abc")),
            (
                "multipart/related; type=\"a;b\"; boundary=\"x y:z\"",
                Ok("x y:z"),
            ),
            (
                "multipart/mixed; boundary=\"a\\\"b\"",
                Err("invalid boundary"),
            ),
            ("multipart/mixed; flag; boundary=q", Ok("q")),
            ("multipart/mixed", Err("no boundary")),
            ("multipart/mixed; boundary=\"open", Err("no boundary")),
            ("multipart/mixed; boundary=", Err("invalid boundary")),
            (
                "multipart/mixed; boundary=\"ends \"",
                Err("invalid boundary"),
            ),
            ("multipart/mixed; boundary=a\u{e9}", Err("invalid boundary")),
            ("text/plain; boundary=abc", Err("not multipart")),
            ("multipart", Err("not multipart")),
            ("", Err("not multipart")),
        ];
        for (content_type, expected) in cases {
            let got = multipart_boundary(content_type);
            match (expected, &got) {
                (Ok(boundary), Ok(got)) => assert_eq!(got, boundary, "{content_type}"),
                (Err("invalid boundary"), Err(MultipartError::InvalidBoundary { .. }))
                | (Err("no boundary"), Err(MultipartError::MissingBoundary))
                | (Err("not multipart"), Err(MultipartError::NotMultipart)) => {}
                _ => panic!("{content_type:?}: expected {expected:?}, got {got:?}"),
            }
        }
        let ok = format!("multipart/mixed; boundary={seventy}");
        assert_eq!(multipart_boundary(&ok).unwrap(), seventy);
        let over = format!("multipart/mixed; boundary={seventy}b");
        assert!(matches!(
            multipart_boundary(&over),
            Err(MultipartError::InvalidBoundary { .. })
        ));
    }

    #[test]
    fn quoted_only_when_needed() {
        assert_eq!(
            content_type_value("mixed", "a.b_c"),
            "multipart/mixed; boundary=a.b_c"
        );
        assert_eq!(
            content_type_value("form-data", "a:b"),
            "multipart/form-data; boundary=\"a:b\""
        );
    }
}
