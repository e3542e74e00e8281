//! Reason phrases for status codes (HTTP.jl `statustext`).
//!
//! The phrases are the IANA HTTP Status Code Registry's (RFC 9110 §15 and the RFCs it
//! lists). Where HTTP.jl's table uses an older wording ("Moved Temporarily",
//! "Request Time-out"), the registry's current one is used; the non-registered codes
//! HTTP.jl knows (nginx, CloudFlare, 440, 509, 530) keep HTTP.jl's text.

/// The reason phrase for `status`, or `"Unknown Code"` (HTTP.jl `statustext`).
///
/// ```
/// use httpstack::messages::status_text;
///
/// assert_eq!(status_text(200), "OK");
/// assert_eq!(status_text(404), "Not Found");
/// assert_eq!(status_text(999), "Unknown Code");
/// ```
pub fn status_text(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        440 => "Login Timeout",
        444 => "nginx error: No Response",
        451 => "Unavailable For Legal Reasons",
        495 => "nginx error: SSL Certificate Error",
        496 => "nginx error: SSL Certificate Required",
        497 => "nginx error: HTTP -> HTTPS",
        499 => "nginx error or Antivirus intercepted request or ArcGIS error",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        520 => "CloudFlare Server Error: Unknown",
        521 => "CloudFlare Server Error: Connection Refused",
        522 => "CloudFlare Server Error: Connection Timeout",
        523 => "CloudFlare Server Error: Origin Server Unreachable",
        524 => "CloudFlare Server Error: Connection Timeout",
        525 => "CloudFlare Server Error: Connection Failed",
        526 => "CloudFlare Server Error: Invalid SSL Certificate",
        527 => "CloudFlare Server Error: Railgun Error",
        530 => "Site Frozen",
        _ => "Unknown Code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases() {
        const CASES: &[(u16, &str)] = &[
            (0, "Unknown Code"),
            (100, "Continue"),
            (200, "OK"),
            (204, "No Content"),
            (302, "Found"),
            (404, "Not Found"),
            (418, "I'm a teapot"),
            (429, "Too Many Requests"),
            (
                499,
                "nginx error or Antivirus intercepted request or ArcGIS error",
            ),
            (503, "Service Unavailable"),
            (599, "Unknown Code"),
            (u16::MAX, "Unknown Code"),
        ];
        for (status, expected) in CASES {
            assert_eq!(status_text(*status), *expected, "status {status}");
        }
    }

    #[test]
    fn covers_every_code_the_http_crate_names() {
        // The `http` crate names the registered codes (with some pre-RFC 9110 wording, so
        // only coverage is compared): each must have a phrase here.
        for code in 100..600 {
            let Ok(status) = http::StatusCode::from_u16(code) else {
                continue;
            };
            if status.canonical_reason().is_some() {
                assert_ne!(status_text(code), "Unknown Code", "status {code}");
            }
        }
    }
}
