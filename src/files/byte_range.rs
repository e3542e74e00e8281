//! The `Range` request header (RFC 9110 §14.1.2, §14.2), for one byte range.

/// What a `Range` field asks of a representation of a known length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeRequest {
    /// Serve the whole representation: no usable `Range` (absent, another unit, malformed,
    /// or several ranges, which RFC 9110 §14.2 lets a server ignore).
    Full,
    /// Serve bytes `start..=end` (both inside the representation).
    Bytes { start: u64, end: u64 },
    /// A well-formed range none of whose bytes exist: 416 (RFC 9110 §15.5.17).
    Unsatisfiable,
}

impl RangeRequest {
    /// Interprets `value` against a representation of `len` bytes.
    ///
    /// RFC 9110 §14.2: a server may ignore a Range field it does not understand or that
    /// is invalid — here it is ignored (200 with the whole representation), where nginx
    /// answers a malformed one with 416.
    pub(crate) fn parse(value: &[u8], len: u64) -> RangeRequest {
        let Ok(value) = std::str::from_utf8(value) else {
            return RangeRequest::Full;
        };
        // ranges-specifier = range-unit "=" range-set; range units are case-insensitive.
        let Some((unit, set)) = value.trim().split_once('=') else {
            return RangeRequest::Full;
        };
        if !unit.eq_ignore_ascii_case("bytes") {
            return RangeRequest::Full;
        }
        // range-set = 1#range-spec: a list, so empty members and OWS are allowed.
        let mut specs = set.split(',').map(str::trim).filter(|s| !s.is_empty());
        let (Some(spec), None) = (specs.next(), specs.next()) else {
            return RangeRequest::Full;
        };
        let Some((first, last)) = spec.split_once('-') else {
            return RangeRequest::Full;
        };
        match (first.is_empty(), last.is_empty()) {
            // suffix-range = "-" suffix-length
            (true, false) => {
                if !all_digits(last) {
                    return RangeRequest::Full;
                }
                // A suffix longer than u64 asks for the whole representation anyway.
                let suffix = digits(last).unwrap_or(u64::MAX);
                if suffix == 0 || len == 0 {
                    RangeRequest::Unsatisfiable
                } else {
                    RangeRequest::Bytes {
                        start: len.saturating_sub(suffix),
                        end: len - 1,
                    }
                }
            }
            // int-range = first-pos "-" [ last-pos ]
            (false, open) => {
                let Some(start) = digits(first) else {
                    return if all_digits(first) {
                        RangeRequest::Unsatisfiable // past u64: past any end
                    } else {
                        RangeRequest::Full
                    };
                };
                let end = if open {
                    u64::MAX
                } else {
                    match digits(last) {
                        Some(end) => end,
                        None if all_digits(last) => u64::MAX,
                        None => return RangeRequest::Full,
                    }
                };
                if end < start {
                    // RFC 9110 §14.1.1: an int-range with last < first is invalid.
                    RangeRequest::Full
                } else if start >= len {
                    RangeRequest::Unsatisfiable
                } else {
                    RangeRequest::Bytes {
                        start,
                        end: end.min(len - 1),
                    }
                }
            }
            _ => RangeRequest::Full,
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A non-empty run of ASCII digits as a number; `None` if it is not one or overflows.
fn digits(s: &str) -> Option<u64> {
    if all_digits(s) {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::{self, *};

    #[test]
    fn single_ranges_against_ten_bytes() {
        let cases: &[(&str, RangeRequest)] = &[
            ("bytes=0-0", Bytes { start: 0, end: 0 }),
            ("bytes=0-4", Bytes { start: 0, end: 4 }),
            ("BYTES=2-", Bytes { start: 2, end: 9 }),
            ("bytes=5-100", Bytes { start: 5, end: 9 }),
            ("bytes=-3", Bytes { start: 7, end: 9 }),
            ("bytes=-30", Bytes { start: 0, end: 9 }),
            ("bytes=-99999999999999999999999", Bytes { start: 0, end: 9 }),
            ("bytes= 1-2 ,", Bytes { start: 1, end: 2 }),
            ("bytes=9-", Bytes { start: 9, end: 9 }),
            (
                "bytes=0-99999999999999999999999",
                Bytes { start: 0, end: 9 },
            ),
            ("bytes=10-", Unsatisfiable),
            ("bytes=10-20", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=99999999999999999999999-", Unsatisfiable),
            ("bytes=5-1", Full),
            ("bytes=0-1,3-4", Full),
            ("bytes=a-b", Full),
            ("bytes=-", Full),
            ("bytes=1", Full),
            ("bytes=", Full),
            ("bytes=+1-2", Full),
            ("bytes=1 -2", Full),
            ("items=0-1", Full),
            ("0-1", Full),
            ("", Full),
        ];
        for (value, expected) in cases {
            assert_eq!(
                RangeRequest::parse(value.as_bytes(), 10),
                *expected,
                "Range: {value}"
            );
        }
    }

    #[test]
    fn empty_representation_has_no_satisfiable_range() {
        for value in ["bytes=0-", "bytes=-5", "bytes=0-0"] {
            assert_eq!(
                RangeRequest::parse(value.as_bytes(), 0),
                Unsatisfiable,
                "{value}"
            );
        }
    }
}
