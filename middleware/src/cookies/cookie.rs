//! [`Cookie`], its parsing from `Set-Cookie` / `Cookie` headers, and its string forms.
//!
//! The parser is HTTP.jl's `Cookies.jl`, itself a port of Go's `net/http` `cookie.go`
//! (`readSetCookies`, `readCookies`, `Cookie.String`). It is written here rather than taken
//! from the `cookie` crate because that crate's parser follows other rules: it accepts names
//! that are not tokens and values with bytes HTTP.jl refuses, keeps the quotes around a
//! value, and accepts `Expires` formats HTTP.jl ignores (two-digit years, asctime). The
//! `cookie` crate is still what a [`CookieJar`](super::CookieJar) hands to `cookie_store`.
//!
//! The rules are listed in the [parent module's docs](super#parsing-rules).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Request, Response};

use crate::error::Error;

/// A cookie's `SameSite` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None`.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

/// An HTTP cookie, as sent in a response's `Set-Cookie` header or a request's `Cookie`
/// header (HTTP.jl `Cookie`).
///
/// The fields are public, as HTTP.jl's are; [`Cookie::new`] and the `with_*` methods build
/// one. A cookie read from a request's `Cookie` header has only a name and a value.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Cookie {
    /// The name.
    pub name: String,
    /// The value (unquoted).
    pub value: String,
    /// The `Path` attribute.
    pub path: Option<String>,
    /// The `Domain` attribute, without a leading dot. For a cookie from a jar, the domain it
    /// was stored for.
    pub domain: Option<String>,
    /// The `Expires` attribute.
    pub expires: Option<SystemTime>,
    /// The `Max-Age` attribute in seconds; zero or less means "delete now".
    pub max_age: Option<i64>,
    /// The `Secure` attribute: send only over https.
    pub secure: bool,
    /// The `HttpOnly` attribute.
    pub http_only: bool,
    /// Set by a jar: the cookie came without a `Domain` and goes back only to the host that
    /// set it (RFC 6265 §5.3 step 6). Never written to a header.
    pub host_only: bool,
    /// The `SameSite` attribute.
    pub same_site: Option<SameSite>,
}

impl Cookie {
    /// A cookie with a name and a value and no attributes.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Cookie {
            name: name.into(),
            value: value.into(),
            ..Cookie::default()
        }
    }

    /// Sets `Path`.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets `Domain`.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets `Expires`.
    pub fn with_expires(mut self, expires: SystemTime) -> Self {
        self.expires = Some(expires);
        self
    }

    /// Sets `Max-Age` in seconds (zero or less: delete the cookie now).
    pub fn with_max_age(mut self, seconds: i64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Sets `Secure`.
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sets `HttpOnly`.
    pub fn with_http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Sets `SameSite`.
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// Parses one `Set-Cookie` header value (Go's `readSetCookies` for one line). `None` when
    /// the name or the value is invalid; see the [parsing rules](super#parsing-rules).
    pub fn parse_set_cookie(line: &str) -> Option<Cookie> {
        let mut parts = trim(line).split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let name = trim(name);
        if !is_token(name) {
            return None;
        }
        let value = parse_value(trim(value), true)?;
        let mut cookie = Cookie::new(name, value);
        for part in parts {
            let part = trim(part);
            if part.is_empty() {
                continue;
            }
            let (attr, val) = part.split_once('=').unwrap_or((part, ""));
            let (attr, val) = (trim(attr), trim(val));
            let Some(val) = parse_value(val, false) else {
                continue;
            };
            if attr.eq_ignore_ascii_case("secure") {
                cookie.secure = true;
            } else if attr.eq_ignore_ascii_case("httponly") {
                cookie.http_only = true;
            } else if attr.eq_ignore_ascii_case("path") {
                cookie.path = Some(val.to_owned());
            } else if attr.eq_ignore_ascii_case("domain") {
                let domain = val.strip_prefix('.').unwrap_or(val);
                cookie.domain = (!domain.is_empty()).then(|| domain.to_ascii_lowercase());
            } else if attr.eq_ignore_ascii_case("max-age") {
                if let Some(secs) = parse_max_age(val) {
                    cookie.max_age = Some(secs);
                }
            } else if attr.eq_ignore_ascii_case("expires") {
                if let Some(at) = parse_expires(val) {
                    cookie.expires = Some(at);
                }
            } else if attr.eq_ignore_ascii_case("samesite") {
                cookie.same_site = if val.eq_ignore_ascii_case("lax") {
                    Some(SameSite::Lax)
                } else if val.eq_ignore_ascii_case("strict") {
                    Some(SameSite::Strict)
                } else if val.eq_ignore_ascii_case("none") {
                    Some(SameSite::None)
                } else {
                    None
                };
            }
        }
        Some(cookie)
    }

    /// Parses a request's `Cookie` header value into its `name=value` pairs (Go's
    /// `readCookies`). Pairs with an invalid name or value are skipped.
    pub fn parse_cookie_header(line: &str) -> Vec<Cookie> {
        let mut cookies = Vec::new();
        for part in line.split(';') {
            let part = trim(part);
            if part.is_empty() {
                continue;
            }
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = trim(name);
            if !is_token(name) {
                continue;
            }
            if let Some(value) = parse_value(trim(value), true) {
                cookies.push(Cookie::new(name, value));
            }
        }
        cookies
    }

    /// The request form, `name=value`, for a `Cookie` header (HTTP.jl
    /// `stringify(cookie, true)`). Bytes not allowed in a value are dropped, and a value with
    /// a space or a comma is quoted.
    ///
    /// # Errors
    /// An invalid name (empty, or not an RFC 9110 token) is an invalid-input error.
    pub fn to_request_string(&self) -> Result<String, Error> {
        let mut out = String::with_capacity(self.name.len() + self.value.len() + 3);
        self.write_pair(&mut out)?;
        Ok(out)
    }

    /// The `Set-Cookie` form with every attribute that is set (HTTP.jl
    /// `stringify(cookie, false)`, Go's `Cookie.String`). An invalid `Domain` is left out,
    /// bytes not allowed in a path are dropped, and `Expires` is written in IMF-fixdate
    /// (years 0001–9999).
    ///
    /// # Errors
    /// An invalid name is an invalid-input error.
    pub fn to_set_cookie_string(&self) -> Result<String, Error> {
        use std::fmt::Write;
        let mut out = String::with_capacity(self.name.len() + self.value.len() + 64);
        self.write_pair(&mut out)?;
        if let Some(path) = &self.path {
            out.push_str("; Path=");
            out.extend(path.chars().filter(|&c| is_path_char(c)));
        }
        if let Some(domain) = &self.domain {
            let domain = domain.strip_prefix('.').unwrap_or(domain);
            if is_domain_name(domain) || domain.parse::<std::net::Ipv4Addr>().is_ok() {
                out.push_str("; Domain=");
                out.push_str(domain);
            }
        }
        if let Some(expires) = self.expires {
            out.push_str("; Expires=");
            out.push_str(&format_expires(expires));
        }
        if let Some(max_age) = self.max_age {
            // Go: a Max-Age of zero or less is sent as `Max-Age=0`, "delete now".
            let _ = write!(out, "; Max-Age={}", max_age.max(0));
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if self.secure {
            out.push_str("; Secure");
        }
        if let Some(same_site) = self.same_site {
            out.push_str("; SameSite=");
            out.push_str(same_site.as_str());
        }
        Ok(out)
    }

    fn write_pair(&self, out: &mut String) -> Result<(), Error> {
        if !is_token(&self.name) {
            return Err(Error::invalid_input(format!(
                "invalid cookie name {:?}: it must be a non-empty token",
                self.name
            )));
        }
        out.push_str(&self.name);
        out.push('=');
        let quote = self.value.contains([' ', ',']);
        if quote {
            out.push('"');
        }
        out.extend(self.value.chars().filter(|&c| is_value_char(c)));
        if quote {
            out.push('"');
        }
        Ok(())
    }
}

/// A request or a response whose cookies can be read and added: the `Cookie` header of a
/// request, the `Set-Cookie` headers of a response.
pub trait CookieMessage {
    /// The cookies of the message (HTTP.jl `Cookies.cookies(r)`). For a request that went
    /// through a [`CookieParseLayer`](super::CookieParseLayer), the cookies it parsed.
    fn cookies(&self) -> Vec<Cookie>;

    /// Adds `cookie` (HTTP.jl `Cookies.addcookie!`): to a request, appended to its `Cookie`
    /// header in the request form; to a response, as one more `Set-Cookie` header with
    /// every attribute.
    ///
    /// # Errors
    /// An invalid cookie name is an invalid-input error.
    fn add_cookie(&mut self, cookie: &Cookie) -> Result<(), Error>;
}

impl<B> CookieMessage for Request<B> {
    fn cookies(&self) -> Vec<Cookie> {
        if let Some(parsed) = self.extensions().get::<super::ParsedCookies>() {
            return parsed.to_vec();
        }
        request_cookies(self.headers())
    }

    fn add_cookie(&mut self, cookie: &Cookie) -> Result<(), Error> {
        let pair = cookie.to_request_string()?;
        append_cookie_header(self.headers_mut(), &pair)
    }
}

impl<B> CookieMessage for Response<B> {
    fn cookies(&self) -> Vec<Cookie> {
        set_cookies(self.headers())
    }

    fn add_cookie(&mut self, cookie: &Cookie) -> Result<(), Error> {
        let line = cookie.to_set_cookie_string()?;
        let value = HeaderValue::from_str(&line).map_err(|e| {
            Error::invalid_input("cookie is not a valid header value").with_source(e)
        })?;
        self.headers_mut().append(SET_COOKIE, value);
        Ok(())
    }
}

/// The cookies of a request (its `Cookie` header) or a response (its `Set-Cookie` headers);
/// HTTP.jl `HTTP.cookies(r)`.
///
/// ```
/// use httpstack_middleware::cookies::{cookies, add_cookie, Cookie};
/// let mut resp = http::Response::new(());
/// add_cookie(&mut resp, &Cookie::new("session", "abc").with_path("/")).unwrap();
/// assert_eq!(resp.headers()["set-cookie"], "session=abc; Path=/");
/// assert_eq!(cookies(&resp)[0].value, "abc");
/// ```
pub fn cookies<M: CookieMessage>(message: &M) -> Vec<Cookie> {
    message.cookies()
}

/// Adds a cookie to a request or a response; HTTP.jl `Cookies.addcookie!`. See
/// [`CookieMessage::add_cookie`].
///
/// # Errors
/// An invalid cookie name is an invalid-input error.
pub fn add_cookie<M: CookieMessage>(message: &mut M, cookie: &Cookie) -> Result<(), Error> {
    message.add_cookie(cookie)
}

/// Every valid cookie in `headers`' `Set-Cookie` headers.
pub(crate) fn set_cookies(headers: &HeaderMap) -> Vec<Cookie> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|line| Cookie::parse_set_cookie(&String::from_utf8_lossy(line.as_bytes())))
        .collect()
}

/// Every valid pair in `headers`' `Cookie` headers (HTTP/2 may split it in several).
pub(crate) fn request_cookies(headers: &HeaderMap) -> Vec<Cookie> {
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|line| Cookie::parse_cookie_header(&String::from_utf8_lossy(line.as_bytes())))
        .collect()
}

/// Adds `pairs` (`a=1; b=2`, each name once) to the request's `Cookie` header, making one
/// header of all (RFC 6265 §5.4: a user agent sends one `Cookie` header). A pair the
/// caller wrote in the header by hand whose name `pairs` also has is left out, so each name
/// is sent once (HTTP.jl: the jar's and the request's cookies win over a manual header).
/// The header is marked sensitive, so logs and `Debug` output do not show it.
pub(crate) fn append_cookie_header(headers: &mut HeaderMap, pairs: &str) -> Result<(), Error> {
    let name_of = |pair: &str| {
        pair.split_once('=')
            .map_or(pair, |(n, _)| n)
            .trim()
            .to_owned()
    };
    let mut line = String::new();
    if headers.contains_key(COOKIE) {
        let replaced: Vec<String> = pairs.split(';').map(name_of).collect();
        for existing in headers.get_all(COOKIE) {
            let existing = String::from_utf8_lossy(existing.as_bytes());
            for pair in existing.split(';').map(trim).filter(|p| !p.is_empty()) {
                if !replaced.contains(&name_of(pair)) {
                    line.push_str(pair);
                    line.push_str("; ");
                }
            }
        }
    }
    line.push_str(pairs);
    let mut value = HeaderValue::from_str(&line).map_err(|e| {
        Error::invalid_input("Cookie header is not a valid header value").with_source(e)
    })?;
    value.set_sensitive(true);
    headers.insert(COOKIE, value);
    Ok(())
}

/// Go's `textproto.TrimString`: ASCII whitespace off both ends.
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// RFC 9110 §5.6.2 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Go's `validCookieValueByte`: printable ASCII and space, but not `"`, `;` or `\`.
fn is_value_char(c: char) -> bool {
    (' '..='~').contains(&c) && !matches!(c, '"' | ';' | '\\')
}

/// Go's `validCookiePathByte`.
fn is_path_char(c: char) -> bool {
    (' '..='~').contains(&c) && c != ';'
}

/// Go's `parseCookieValue`: unquotes (when allowed), then refuses invalid bytes.
fn parse_value(raw: &str, allow_quotes: bool) -> Option<&str> {
    let raw = if allow_quotes && raw.len() > 1 && raw.starts_with('"') && raw.ends_with('"') {
        &raw[1..raw.len() - 1]
    } else {
        raw
    };
    raw.chars().all(is_value_char).then_some(raw)
}

/// Go's rule: an integer without leading zeros ("0" itself is fine, "+5" too); zero or
/// less becomes 0, "delete now".
fn parse_max_age(val: &str) -> Option<i64> {
    let secs: i64 = val.parse().ok()?;
    if secs != 0 && val.starts_with('0') {
        return None;
    }
    Some(secs.max(0))
}

/// Go's `isCookieDomainName`: dot-separated labels of letters, digits, `-` and `_`, each 1 to
/// 63 bytes and not starting or ending with `-`, 255 bytes at most, with at least one
/// letter (so an IP address is not a domain name).
fn is_domain_name(domain: &str) -> bool {
    if domain.is_empty() || domain.len() > 255 {
        return false;
    }
    let mut letter = false;
    for label in domain.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return false;
        }
        for b in label.bytes() {
            if b.is_ascii_alphabetic() || b == b'_' {
                letter = true;
            } else if !(b.is_ascii_digit() || b == b'-') {
                return false;
            }
        }
    }
    letter
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// HTTP.jl's two `Expires` formats, `Wdy, DD Mon YYYY HH:MM:SS GMT` and
/// `Wdy, DD-Mon-YYYY HH:MM:SS GMT`. The weekday is checked for spelling only, as Go does.
fn parse_expires(val: &str) -> Option<SystemTime> {
    let (weekday, rest) = val.split_once(", ")?;
    if !WEEKDAYS.iter().any(|w| w.eq_ignore_ascii_case(weekday)) {
        return None;
    }
    let fields: Vec<&str> = rest.split(' ').collect();
    let (day, month, year, time, zone) = match fields[..] {
        [day, month, year, time, zone] => (day, month, year, time, zone),
        [date, time, zone] => {
            let mut dmy = date.split('-');
            let parts = (dmy.next()?, dmy.next()?, dmy.next()?);
            if dmy.next().is_some() {
                return None;
            }
            (parts.0, parts.1, parts.2, time, zone)
        }
        _ => return None,
    };
    if zone != "GMT" {
        return None;
    }
    let day: u8 = digits(day, 1, 2)?.try_into().ok()?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))?;
    let year: i32 = digits(year, 4, 4)?.try_into().ok()?;
    let mut hms = time.split(':');
    let (h, m, s) = (
        digits(hms.next()?, 2, 2)?,
        digits(hms.next()?, 2, 2)?,
        digits(hms.next()?, 2, 2)?,
    );
    if hms.next().is_some() || h > 23 || m > 59 || s > 59 {
        return None;
    }
    let month = cookie::time::Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let date = cookie::time::Date::from_calendar_date(year, month, day).ok()?;
    let days = i64::from(date.to_julian_day()) - i64::from(UNIX_EPOCH_JULIAN_DAY);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s);
    Some(from_unix(secs))
}

/// `1970-01-01` as a Julian day number.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// An ASCII decimal of `min..=max` digits.
fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The time `secs` seconds from the Unix epoch (negative: before it).
pub(crate) fn from_unix(secs: i64) -> SystemTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH.checked_sub(d).unwrap_or(UNIX_EPOCH)
    }
}

/// Seconds from the Unix epoch to `t` (negative before it), saturating.
pub(crate) fn to_unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// `Expires` in IMF-fixdate (RFC 9110 §5.6.7): the real date, before 1970 too (HTTP.jl
/// writes `Mon, 01 Jan 1601 00:00:00 GMT` for its "deleted" cookies), clamped only to
/// what four digits can write, 0001-01-01 .. 9999-12-31.
fn format_expires(t: SystemTime) -> String {
    const MIN: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let secs = to_unix(t).clamp(MIN, MAX);
    let date = cookie::time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(cookie::time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[usize::from(date.weekday().number_days_from_monday())],
        date.day(),
        MONTHS[usize::from(u8::from(date.month()) - 1)],
        date.year(),
        date.hour(),
        date.minute(),
        date.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a parsed cookie should look like; `None` for a refused one.
    #[derive(Debug)]
    struct Want {
        name: &'static str,
        value: &'static str,
        path: Option<&'static str>,
        domain: Option<&'static str>,
        expires: Option<i64>,
        max_age: Option<i64>,
        secure: bool,
        http_only: bool,
        same_site: Option<SameSite>,
    }

    const fn want(name: &'static str, value: &'static str) -> Want {
        Want {
            name,
            value,
            path: None,
            domain: None,
            expires: None,
            max_age: None,
            secure: false,
            http_only: false,
            same_site: None,
        }
    }

    /// 2021-06-09T10:18:14Z.
    const JUNE_9_2021: i64 = 1_623_233_894;

    /// Go's `readSetCookiesTests` and HTTP.jl's `Cookies` tests, plus the edges of each rule.
    fn set_cookie_cases() -> Vec<(&'static str, Option<Want>)> {
        vec![
            ("Cookie-1=v$1", Some(want("Cookie-1", "v$1"))),
            (
                "NID=99=YsDT5i3E-CXax-; expires=Wed, 23-Nov-2011 01:05:03 GMT; path=/; domain=.google.ch; HttpOnly",
                Some(Want {
                    path: Some("/"),
                    domain: Some("google.ch"),
                    expires: Some(1_322_010_303),
                    http_only: true,
                    ..want("NID", "99=YsDT5i3E-CXax-")
                }),
            ),
            (
                ".ASPXAUTH=7E3AA; expires=Wed, 07-Mar-2012 14:25:06 GMT; path=/; HttpOnly",
                Some(Want {
                    path: Some("/"),
                    expires: Some(1_331_130_306),
                    http_only: true,
                    ..want(".ASPXAUTH", "7E3AA")
                }),
            ),
            (
                "ASP.NET_SessionId=foo; path=/; HttpOnly",
                Some(Want { path: Some("/"), http_only: true, ..want("ASP.NET_SessionId", "foo") }),
            ),
            ("samesitedefault=foo; SameSite", Some(want("samesitedefault", "foo"))),
            ("samesiteinvalid=foo; SameSite=invalid", Some(want("samesiteinvalid", "foo"))),
            (
                "samesitelax=foo; SameSite=Lax",
                Some(Want { same_site: Some(SameSite::Lax), ..want("samesitelax", "foo") }),
            ),
            (
                "samesitestrict=foo; SameSite=Strict",
                Some(Want { same_site: Some(SameSite::Strict), ..want("samesitestrict", "foo") }),
            ),
            (
                "samesitenone=foo; SameSite=None",
                Some(Want { same_site: Some(SameSite::None), ..want("samesitenone", "foo") }),
            ),
            ("samesitecase=foo; samesite=sTrIcT", Some(Want { same_site: Some(SameSite::Strict), ..want("samesitecase", "foo") })),
            // Quoted values are unquoted; spaces and commas inside quotes are fine.
            ("special-1=a z", Some(want("special-1", "a z"))),
            ("special-2=\" z\"", Some(want("special-2", " z"))),
            ("special-3=\"a \"", Some(want("special-3", "a "))),
            ("special-4=\" \"", Some(want("special-4", " "))),
            ("special-5=a,z", Some(want("special-5", "a,z"))),
            ("special-6=\",z\"", Some(want("special-6", ",z"))),
            ("special-7=a,", Some(want("special-7", "a,"))),
            ("special-8=\",\"", Some(want("special-8", ","))),
            ("empty-quotes=\"\"", Some(want("empty-quotes", ""))),
            ("lone-quote=\"", None),
            ("inner-quote=\"a\"b\"", None),
            ("empty-value=", Some(want("empty-value", ""))),
            // Invalid bytes in the value refuse the cookie.
            ("bad-semi=a\\b", None),
            ("bad-ctl=a\u{7f}b", None),
            ("bad-utf8=caf\u{e9}", None),
            // Invalid names, or no `=`.
            ("=novalue", None),
            ("no-equals", None),
            ("bad name=v", None),
            ("bad(name)=v", None),
            ("", None),
            ("   ", None),
            // Surrounding whitespace is trimmed.
            ("  spaced = v  ; Path = /x ", Some(Want { path: Some("/x"), ..want("spaced", "v") })),
            // Max-Age: plain integers; zero or less means delete; leading zeros are invalid.
            ("m=1; Max-Age=3600", Some(Want { max_age: Some(3600), ..want("m", "1") })),
            ("m=1; Max-Age=0", Some(Want { max_age: Some(0), ..want("m", "1") })),
            ("m=1; Max-Age=-1", Some(Want { max_age: Some(0), ..want("m", "1") })),
            ("m=1; Max-Age=+5", Some(Want { max_age: Some(5), ..want("m", "1") })),
            ("m=1; Max-Age=010", Some(want("m", "1"))),
            ("m=1; Max-Age=abc", Some(want("m", "1"))),
            ("m=1; Max-Age=", Some(want("m", "1"))),
            // Expires: two formats; a bad date drops the attribute only.
            (
                "e=1; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
                Some(Want { expires: Some(JUNE_9_2021), ..want("e", "1") }),
            ),
            (
                "e=1; expires=Wed, 09-Jun-2021 10:18:14 GMT",
                Some(Want { expires: Some(JUNE_9_2021), ..want("e", "1") }),
            ),
            (
                "e=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                Some(Want { expires: Some(0), ..want("e", "1") }),
            ),
            ("e=1; Expires=Wed, 09 Jun 2021 10:18:14 PST", Some(want("e", "1"))),
            ("e=1; Expires=2021-06-09T10:18:14Z", Some(want("e", "1"))),
            ("e=1; Expires=Wed, 31 Feb 2021 10:18:14 GMT", Some(want("e", "1"))),
            ("e=1; Expires=Wed, 09 Jun 2021 25:18:14 GMT", Some(want("e", "1"))),
            ("e=1; Expires=Xyz, 09 Jun 2021 10:18:14 GMT", Some(want("e", "1"))),
            ("e=1; Expires=Wed, 09 Jun 21 10:18:14 GMT", Some(want("e", "1"))),
            ("e=1; Expires=", Some(want("e", "1"))),
            // Domain: one leading dot stripped, lower-cased; empty means none.
            ("d=1; Domain=Example.COM", Some(Want { domain: Some("example.com"), ..want("d", "1") })),
            ("d=1; Domain=.example.com", Some(Want { domain: Some("example.com"), ..want("d", "1") })),
            ("d=1; Domain=", Some(want("d", "1"))),
            ("d=1; Domain=.", Some(want("d", "1"))),
            // Flags are case-insensitive; unknown and invalid attributes are ignored.
            (
                "f=1; SECURE; httponly; Foo=bar; Partitioned",
                Some(Want { secure: true, http_only: true, ..want("f", "1") }),
            ),
            ("p=1; Path=/a\"b; Secure", Some(Want { secure: true, ..want("p", "1") })),
            ("p=1; Path=/a;;  ; Secure", Some(Want { path: Some("/a"), secure: true, ..want("p", "1") })),
            // The last of a repeated attribute wins.
            ("r=1; Path=/a; Path=/b", Some(Want { path: Some("/b"), ..want("r", "1") })),
        ]
    }

    #[test]
    fn set_cookie_parsing_follows_http_jl() {
        let cases = set_cookie_cases();
        assert!(cases.len() >= 30);
        for (input, expected) in cases {
            let got = Cookie::parse_set_cookie(input);
            match (got, expected) {
                (None, None) => {}
                (Some(got), Some(want)) => {
                    let want_cookie = Cookie {
                        name: want.name.into(),
                        value: want.value.into(),
                        path: want.path.map(Into::into),
                        domain: want.domain.map(Into::into),
                        expires: want.expires.map(from_unix),
                        max_age: want.max_age,
                        secure: want.secure,
                        http_only: want.http_only,
                        host_only: false,
                        same_site: want.same_site,
                    };
                    assert_eq!(got, want_cookie, "Set-Cookie: {input:?}");
                }
                (got, want) => panic!("Set-Cookie: {input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn cookie_header_parsing_follows_http_jl() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("Cookie-1=v$1", &[("Cookie-1", "v$1")]),
            ("Cookie-1=v$1;c2=v2", &[("Cookie-1", "v$1"), ("c2", "v2")]),
            ("Cookie-1=v$1; c2=v2", &[("Cookie-1", "v$1"), ("c2", "v2")]),
            (
                "Cookie-1=v$1; c2=\"v2\"",
                &[("Cookie-1", "v$1"), ("c2", "v2")],
            ),
            (
                "  Cookie-1=v$1 ;  c2=v2  ",
                &[("Cookie-1", "v$1"), ("c2", "v2")],
            ),
            (
                "Cookie-1=v$1; bad name=x; c2=v2",
                &[("Cookie-1", "v$1"), ("c2", "v2")],
            ),
            ("a=1; b=x\\y; c=3", &[("a", "1"), ("c", "3")]),
            ("a=; b", &[("a", ""), ("b", "")]),
            (";;", &[]),
            ("", &[]),
        ];
        for (input, expected) in cases {
            let got: Vec<(String, String)> = Cookie::parse_cookie_header(input)
                .into_iter()
                .map(|c| (c.name, c.value))
                .collect();
            let want: Vec<(String, String)> = expected
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want, "Cookie: {input:?}");
        }
    }

    #[test]
    fn set_cookie_strings_follow_go() {
        let cases: Vec<(Cookie, &str)> = vec![
            (Cookie::new("cookie-1", "v$1"), "cookie-1=v$1"),
            (Cookie::new("a", "b c"), "a=\"b c\""),
            (Cookie::new("a", "b,c"), "a=\"b,c\""),
            (Cookie::new("a", "b\"c;d\\e"), "a=bcde"),
            (Cookie::new("a", "b").with_path("/x;y"), "a=b; Path=/xy"),
            (
                Cookie::new("a", "b").with_domain(".example.com"),
                "a=b; Domain=example.com",
            ),
            (
                Cookie::new("a", "b").with_domain("127.0.0.1"),
                "a=b; Domain=127.0.0.1",
            ),
            (Cookie::new("a", "b").with_domain("bad domain"), "a=b"),
            (Cookie::new("a", "b").with_domain("::1"), "a=b"),
            (Cookie::new("a", "b").with_max_age(60), "a=b; Max-Age=60"),
            (Cookie::new("a", "b").with_max_age(-1), "a=b; Max-Age=0"),
            (
                Cookie::new("a", "b").with_expires(from_unix(JUNE_9_2021)),
                "a=b; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
            ),
            (
                Cookie::new("a", "b").with_expires(from_unix(-100)),
                "a=b; Expires=Wed, 31 Dec 1969 23:58:20 GMT",
            ),
            (
                // HTTP.jl's "deleted" date.
                Cookie::new("a", "b").with_expires(from_unix(-11_644_473_600)),
                "a=b; Expires=Mon, 01 Jan 1601 00:00:00 GMT",
            ),
            (
                Cookie::new("a", "b").with_expires(from_unix(i64::MIN / 2)),
                "a=b; Expires=Mon, 01 Jan 0001 00:00:00 GMT",
            ),
            (
                Cookie::new("a", "b").with_expires(from_unix(i64::MAX / 2)),
                "a=b; Expires=Fri, 31 Dec 9999 23:59:59 GMT",
            ),
            (
                Cookie::new("s", "1")
                    .with_path("/")
                    .with_domain("example.com")
                    .with_max_age(10)
                    .with_http_only(true)
                    .with_secure(true)
                    .with_same_site(SameSite::Lax),
                "s=1; Path=/; Domain=example.com; Max-Age=10; HttpOnly; Secure; SameSite=Lax",
            ),
        ];
        for (cookie, expected) in cases {
            assert_eq!(
                cookie.to_set_cookie_string().unwrap(),
                expected,
                "{cookie:?}"
            );
        }
        assert!(Cookie::new("bad name", "x").to_set_cookie_string().is_err());
        assert!(Cookie::new("", "x").to_request_string().is_err());
        assert_eq!(
            Cookie::new("a", "b")
                .with_path("/")
                .to_request_string()
                .unwrap(),
            "a=b"
        );
    }

    #[test]
    fn set_cookie_strings_parse_back() {
        let cookie = Cookie::new("s", "a b")
            .with_path("/p")
            .with_domain("example.com")
            .with_expires(from_unix(JUNE_9_2021))
            .with_max_age(10)
            .with_http_only(true)
            .with_secure(true)
            .with_same_site(SameSite::Strict);
        let line = cookie.to_set_cookie_string().unwrap();
        assert_eq!(Cookie::parse_set_cookie(&line), Some(cookie));
    }

    #[test]
    fn request_and_response_helpers() {
        let mut req = Request::new(());
        req.headers_mut()
            .insert(COOKIE, HeaderValue::from_static("a=1"));
        add_cookie(&mut req, &Cookie::new("b", "2")).unwrap();
        assert_eq!(req.headers()[COOKIE], "a=1; b=2");
        let names: Vec<_> = cookies(&req).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["a", "b"]);

        let mut resp = Response::new(());
        add_cookie(&mut resp, &Cookie::new("x", "1").with_max_age(5)).unwrap();
        add_cookie(&mut resp, &Cookie::new("y", "2").with_http_only(true)).unwrap();
        resp.headers_mut()
            .append(SET_COOKIE, HeaderValue::from_static("bad name=1"));
        let got: Vec<_> = cookies(&resp)
            .into_iter()
            .map(|c| (c.name, c.max_age, c.http_only))
            .collect();
        assert_eq!(
            got,
            [("x".into(), Some(5), false), ("y".into(), None, true)]
        );
        assert!(add_cookie(&mut resp, &Cookie::new("no;pe", "1")).is_err());
    }
}
