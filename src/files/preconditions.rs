//! The conditional and range headers of a GET or HEAD, evaluated in RFC 9110 §13.2.2 order
//! against one representation.

use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{
    HeaderMap, HeaderValue, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE,
    IF_UNMODIFIED_SINCE, RANGE,
};
use http::Method;

use super::byte_range::RangeRequest;
use super::entity_tag::{EntityTag, TagList};

/// The validators of the representation being served.
#[derive(Clone, Debug, Default)]
pub(crate) struct Validators {
    /// The strong (or given) entity tag, if any.
    pub(crate) etag: Option<EntityTag>,
    /// The modification time, if known.
    pub(crate) last_modified: Option<SystemTime>,
}

impl Validators {
    /// Last-Modified in whole seconds since the epoch: the precision of an HTTP-date.
    fn last_modified_secs(&self) -> Option<u64> {
        self.last_modified.map(unix_secs)
    }
}

/// The request fields that decide the response to a GET or HEAD of a representation,
/// copied out of the request (cheap: `HeaderValue`s share their bytes) so the response
/// can be built after the request is gone.
#[derive(Clone, Debug)]
pub(crate) struct RequestConditions {
    pub(crate) method: Method,
    if_match: Vec<HeaderValue>,
    if_none_match: Vec<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
    if_unmodified_since: Option<HeaderValue>,
    range: Option<HeaderValue>,
    if_range: Option<HeaderValue>,
}

/// The response a GET or HEAD gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// 200 with the whole representation.
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    PreconditionFailed,
    /// 416 Range Not Satisfiable.
    RangeNotSatisfiable,
}

impl RequestConditions {
    /// Copies the fields out of `headers`.
    pub(crate) fn new(method: &Method, headers: &HeaderMap) -> Self {
        let single = |name| {
            let mut values = headers.get_all(name).iter();
            match (values.next(), values.next()) {
                // A singleton field sent twice is invalid (RFC 9110 §5.3): ignore it.
                (Some(value), None) => Some(value.clone()),
                _ => None,
            }
        };
        RequestConditions {
            method: method.clone(),
            if_match: headers.get_all(IF_MATCH).iter().cloned().collect(),
            if_none_match: headers.get_all(IF_NONE_MATCH).iter().cloned().collect(),
            if_modified_since: single(IF_MODIFIED_SINCE),
            if_unmodified_since: single(IF_UNMODIFIED_SINCE),
            range: single(RANGE),
            if_range: single(IF_RANGE),
        }
    }

    /// Whether the method is HEAD (headers of a GET, no body).
    pub(crate) fn is_head(&self) -> bool {
        self.method == Method::HEAD
    }

    /// Evaluates the preconditions, then the range, for a representation of `len` bytes
    /// (RFC 9110 §13.2.2). The method is GET or HEAD.
    pub(crate) fn decide(&self, validators: &Validators, len: u64) -> Decision {
        // Step 1: If-Match, strong comparison (§13.1.1).
        if !self.if_match.is_empty() {
            if !tag_list(&self.if_match).matches(validators.etag.as_ref(), EntityTag::strong_eq) {
                return Decision::PreconditionFailed;
            }
        } else if let (Some(since), Some(modified)) = (
            // Step 2: If-Unmodified-Since, only without If-Match (§13.1.4); ignored when
            // not a valid date or when the modification time is unknown.
            self.if_unmodified_since.as_ref().and_then(http_date_secs),
            validators.last_modified_secs(),
        ) {
            if modified > since {
                return Decision::PreconditionFailed;
            }
        }
        // Step 3: If-None-Match, weak comparison (§13.1.2); 304 for GET and HEAD.
        if !self.if_none_match.is_empty() {
            if tag_list(&self.if_none_match).matches(validators.etag.as_ref(), EntityTag::weak_eq) {
                return Decision::NotModified;
            }
        } else if let (Some(since), Some(modified)) = (
            // Step 4: If-Modified-Since, only without If-None-Match (§13.1.3).
            self.if_modified_since.as_ref().and_then(http_date_secs),
            validators.last_modified_secs(),
        ) {
            if modified <= since {
                return Decision::NotModified;
            }
        }
        // Step 5: Range applies to GET only (§14.2), and only while If-Range holds.
        let Some(range) = self.range.as_ref().filter(|_| self.method == Method::GET) else {
            return Decision::Full;
        };
        if let Some(if_range) = &self.if_range {
            if !if_range_holds(if_range, validators) {
                return Decision::Full;
            }
        }
        match RangeRequest::parse(range.as_bytes(), len) {
            RangeRequest::Full => Decision::Full,
            RangeRequest::Bytes { start, end } => Decision::Partial { start, end },
            RangeRequest::Unsatisfiable => Decision::RangeNotSatisfiable,
        }
    }
}

fn tag_list(values: &[HeaderValue]) -> TagList {
    TagList::parse(values.iter().map(HeaderValue::as_bytes))
}

/// RFC 9110 §13.1.5: an entity tag must match the current one by the strong comparison
/// (a weak tag never does); a date must equal Last-Modified exactly. Anything else —
/// including a malformed value — fails, and the Range is ignored.
fn if_range_holds(value: &HeaderValue, validators: &Validators) -> bool {
    let bytes = value.as_bytes();
    if bytes.starts_with(b"\"") || bytes.starts_with(b"W/") {
        let tag = value
            .to_str()
            .ok()
            .and_then(|s| s.parse::<EntityTag>().ok());
        match (tag, &validators.etag) {
            (Some(tag), Some(current)) => tag.strong_eq(current),
            _ => false,
        }
    } else {
        match (http_date_secs(value), validators.last_modified_secs()) {
            (Some(date), Some(modified)) => date == modified,
            _ => false,
        }
    }
}

/// An HTTP-date (any of the three forms RFC 9110 §5.6.7 accepts) in seconds since the
/// epoch; `None` if invalid.
fn http_date_secs(value: &HeaderValue) -> Option<u64> {
    let text = value.to_str().ok()?;
    httpdate::parse_http_date(text.trim()).ok().map(unix_secs)
}

fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Decision::*;
    use super::*;

    const LEN: u64 = 100;
    const TAG: &str = "\"v1\"";
    const MODIFIED: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const BEFORE: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
    const AFTER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";

    fn validators() -> Validators {
        Validators {
            etag: Some(TAG.parse().unwrap()),
            last_modified: Some(UNIX_EPOCH + Duration::from_secs(784111777)),
        }
    }

    #[test]
    fn rfc_9110_order() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Decision);
        let cases: &[Case] = &[
            ("GET", &[], Full),
            ("HEAD", &[("range", "bytes=0-9")], Full),
            ("GET", &[("if-match", TAG)], Full),
            ("GET", &[("if-match", "W/\"v1\"")], PreconditionFailed),
            ("GET", &[("if-match", "\"v2\", \"v1\"")], Full),
            ("GET", &[("if-match", "*")], Full),
            ("GET", &[("if-match", "\"v2\"")], PreconditionFailed),
            // If-Match wins over If-Unmodified-Since (step 2 skipped once step 1 ran).
            (
                "GET",
                &[("if-match", TAG), ("if-unmodified-since", BEFORE)],
                Full,
            ),
            (
                "GET",
                &[("if-unmodified-since", BEFORE)],
                PreconditionFailed,
            ),
            ("GET", &[("if-unmodified-since", MODIFIED)], Full),
            ("GET", &[("if-unmodified-since", "yesterday")], Full),
            // 412 from step 1 or 2 comes before 304 from step 3 or 4.
            (
                "GET",
                &[("if-match", "\"v2\""), ("if-none-match", TAG)],
                PreconditionFailed,
            ),
            (
                "GET",
                &[
                    ("if-unmodified-since", BEFORE),
                    ("if-modified-since", AFTER),
                ],
                PreconditionFailed,
            ),
            ("GET", &[("if-none-match", TAG)], NotModified),
            ("HEAD", &[("if-none-match", "W/\"v1\"")], NotModified),
            ("GET", &[("if-none-match", "*")], NotModified),
            ("GET", &[("if-none-match", "\"v2\"")], Full),
            // If-None-Match present: If-Modified-Since is not looked at (step 4 skipped).
            (
                "GET",
                &[("if-none-match", "\"v2\""), ("if-modified-since", AFTER)],
                Full,
            ),
            ("GET", &[("if-modified-since", MODIFIED)], NotModified),
            ("GET", &[("if-modified-since", AFTER)], NotModified),
            ("GET", &[("if-modified-since", BEFORE)], Full),
            ("GET", &[("if-modified-since", "garbage")], Full),
            // Conditions hold, then the range.
            (
                "GET",
                &[("if-none-match", "\"v2\""), ("range", "bytes=0-9")],
                Partial { start: 0, end: 9 },
            ),
            (
                "GET",
                &[("range", "bytes=0-9"), ("if-range", TAG)],
                Partial { start: 0, end: 9 },
            ),
            (
                "GET",
                &[("range", "bytes=0-9"), ("if-range", "\"stale\"")],
                Full,
            ),
            (
                "GET",
                &[("range", "bytes=0-9"), ("if-range", "W/\"v1\"")],
                Full,
            ),
            (
                "GET",
                &[("range", "bytes=0-9"), ("if-range", MODIFIED)],
                Partial { start: 0, end: 9 },
            ),
            ("GET", &[("range", "bytes=0-9"), ("if-range", AFTER)], Full),
            (
                "GET",
                &[("range", "bytes=0-9"), ("if-range", "nonsense")],
                Full,
            ),
            ("GET", &[("range", "bytes=100-")], RangeNotSatisfiable),
            // A stale If-Range turns an unsatisfiable range into a 200 too.
            (
                "GET",
                &[("range", "bytes=100-"), ("if-range", "\"x\"")],
                Full,
            ),
            (
                "GET",
                &[("range", "bytes=0-1"), ("range", "bytes=2-3")],
                Full,
            ),
        ];
        for (method, headers, expected) in cases {
            let mut map = HeaderMap::new();
            for (name, value) in *headers {
                map.append(*name, HeaderValue::from_static(value));
            }
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let got = RequestConditions::new(&method, &map).decide(&validators(), LEN);
            assert_eq!(got, *expected, "case {method} {headers:?}");
        }
    }

    #[test]
    fn no_validators_means_no_conditional_answers() {
        let map: HeaderMap = [
            (IF_NONE_MATCH, HeaderValue::from_static(TAG)),
            (IF_MODIFIED_SINCE, HeaderValue::from_static(AFTER)),
        ]
        .into_iter()
        .collect();
        let got = RequestConditions::new(&Method::GET, &map).decide(&Validators::default(), LEN);
        assert_eq!(got, Full);
        let map: HeaderMap = [(IF_MATCH, HeaderValue::from_static(TAG))]
            .into_iter()
            .collect();
        let got = RequestConditions::new(&Method::GET, &map).decide(&Validators::default(), LEN);
        assert_eq!(got, PreconditionFailed);
    }
}
