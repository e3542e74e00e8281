//! [`CookieJar`]: a thread-safe store of the cookies servers set, per RFC 6265, on
//! `cookie_store`.
//!
//! HTTP.jl's `CookieJar` keyed by host, with `getcookies!` and `setcookies!`. The storage
//! model (RFC 6265 §5.3: domain and path matching, host-only cookies, Max-Age over Expires,
//! replacing and deleting by name, domain and path) is `cookie_store`'s; this type adds
//! HTTP.jl's parsing rules (see [`Cookie::parse_set_cookie`]) and RFC 6265bis's safety
//! rules:
//! - the whole Public Suffix List (the `psl` crate, which embeds it and is released as
//!   the list changes): a `Domain` that is a public suffix (`com`, `co.uk`, `github.io`,
//!   anything under `*.ck`) is refused, or kept host-only when it is the request's own
//!   host (§5.7 step 9);
//! - a `Secure` cookie is stored only from an https response and sent only over https
//!   (§5.7 step 15; HTTP.jl and Go send only over https), and a response over http cannot
//!   set, overwrite or delete a cookie whose stored twin is `Secure` (§5.7 step 16);
//! - the name prefixes, matched case-insensitively (§4.1.3): `__Secure-` needs `Secure`,
//!   `__Host-` needs `Secure`, no `Domain` and `Path=/`;
//! - a host with a trailing dot (`example.com.`) is the same host as without it.
//!
//! Only http and https URLs (and ws / wss, which count as their http twins, RFC 6455 §4.1)
//! take part.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use cookie_store::{CookieDomain, CookieExpiration, CookieStore, StoreAction};
use http::HeaderMap;
use url::Url;

use super::cookie::{from_unix, set_cookies, to_unix, Cookie, SameSite};
use crate::error::Error;

/// A thread-safe cookie jar (HTTP.jl `CookieJar`). Clones share the same cookies.
///
/// ```
/// use httpstack_middleware::cookies::CookieJar;
/// use httpstack_middleware::cookies::Url;
///
/// let jar = CookieJar::new();
/// let url = Url::parse("http://example.com/account/login").unwrap();
/// let mut headers = http::HeaderMap::new();
/// headers.append("set-cookie", "session=abc; Path=/account".parse().unwrap());
/// headers.append("set-cookie", "everywhere=1; Domain=com".parse().unwrap()); // a public suffix
/// headers.append("set-cookie", "__Host-id=1; Path=/".parse().unwrap()); // __Host- needs Secure
/// jar.set_cookies(&url, &headers);
///
/// let sent = jar.get_cookies(&Url::parse("http://example.com/account/profile").unwrap());
/// assert_eq!(sent.len(), 1);
/// assert_eq!((sent[0].name.as_str(), sent[0].value.as_str()), ("session", "abc"));
/// assert!(jar.get_cookies(&Url::parse("http://example.com/").unwrap()).is_empty());
/// ```
#[derive(Clone)]
pub struct CookieJar {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<CookieStore>,
    /// A list given to [`CookieJar::with_public_suffix_list`], which `cookie_store`
    /// applies; `None`: the `psl` crate's whole list, applied by [`insert`].
    suffixes: Option<publicsuffix::List>,
}

impl Default for CookieJar {
    fn default() -> Self {
        CookieJar::new()
    }
}

impl CookieJar {
    /// An empty jar refusing the public suffixes of the whole Public Suffix List.
    pub fn new() -> Self {
        CookieJar::with_suffixes(None)
    }

    /// An empty jar refusing the public suffixes of `list` instead of the built-in list:
    /// text in the format of Mozilla's `public_suffix_list.dat` (with its
    /// `===BEGIN ICANN DOMAINS===` markers), for a newer list or a private one.
    ///
    /// # Errors
    /// A list that does not parse, or has no rules, is an invalid-input error.
    pub fn with_public_suffix_list(list: &str) -> Result<Self, Error> {
        let suffixes = list.parse().map_err(|e| {
            Error::invalid_input("public suffix list does not parse").with_source(e)
        })?;
        Ok(CookieJar::with_suffixes(Some(suffixes)))
    }

    fn with_suffixes(suffixes: Option<publicsuffix::List>) -> Self {
        CookieJar {
            inner: Arc::new(Inner {
                store: Mutex::new(CookieStore::new_with_public_suffix(suffixes.clone())),
                suffixes,
            }),
        }
    }

    fn store(&self) -> MutexGuard<'_, CookieStore> {
        // A panic while holding the lock cannot leave the store half-written in a way that
        // matters more than losing every cookie would, so a poisoned lock is used as is.
        self.inner
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cookies to send to `url` (HTTP.jl `getcookies!`): unexpired, domain- and
    /// path-matching, `Secure` ones only over https, `HttpOnly` ones only to http(s). Longer
    /// paths come first, then the order of storing (RFC 6265 §5.4 step 2, with a replaced
    /// cookie keeping its place). Each has its `domain`, `path`, `expires` and `host_only`
    /// as stored.
    pub fn get_cookies(&self, url: &Url) -> Vec<Cookie> {
        let Some(url) = cookie_url(url) else {
            return Vec::new();
        };
        let https = url.scheme() == "https";
        let store = self.store();
        let mut cookies: Vec<Cookie> = store
            .matches(&url)
            .into_iter()
            .filter(|c| https || !c.secure().unwrap_or(false))
            .map(from_stored)
            .collect();
        drop(store);
        cookies.sort_by_key(|c| std::cmp::Reverse(c.path.as_ref().map_or(0, String::len)));
        cookies
    }

    /// Stores the `Set-Cookie` headers of a response to `url` (HTTP.jl `setcookies!`).
    /// Invalid cookies, and cookies the storage model refuses (a domain not matching `url`,
    /// a public suffix, `Secure` over http), are skipped.
    pub fn set_cookies(&self, url: &Url, headers: &HeaderMap) {
        if !headers.contains_key(http::header::SET_COOKIE) {
            return;
        }
        let Some(url) = cookie_url(url) else {
            return;
        };
        let cookies = set_cookies(headers);
        let builtin = self.inner.suffixes.is_none();
        let mut store = self.store();
        for cookie in &cookies {
            insert(&mut store, &url, cookie, builtin);
        }
    }

    /// Stores one cookie as if a response to `url` had set it; whether it was stored (or
    /// deleted an existing one, for an expired cookie).
    pub fn set_cookie(&self, url: &Url, cookie: &Cookie) -> bool {
        let builtin = self.inner.suffixes.is_none();
        match cookie_url(url) {
            Some(url) => insert(&mut self.store(), &url, cookie, builtin),
            None => false,
        }
    }

    /// Every unexpired cookie in the jar.
    pub fn all(&self) -> Vec<Cookie> {
        self.store().iter_unexpired().map(from_stored).collect()
    }

    /// Whether the jar holds no unexpired cookie.
    pub fn is_empty(&self) -> bool {
        self.store().iter_unexpired().next().is_none()
    }

    /// Removes every cookie.
    pub fn clear(&self) {
        self.store().clear();
    }

    /// Writes the jar as JSON (`cookie_store`'s format): every unexpired cookie, session
    /// cookies included, so that a loaded jar resumes the session.
    ///
    /// # Errors
    /// A failed write is a body error with the I/O error as its source.
    pub fn save_json<W: Write>(&self, writer: &mut W) -> Result<(), Error> {
        let store = self.store();
        cookie_store::serde::json::save_incl_expired_and_nonpersistent(&store, writer)
            .map_err(|e| Error::body(e).with_message("writing the cookie jar"))
    }

    /// Replaces the jar's cookies with those of `reader`, JSON written by
    /// [`CookieJar::save_json`]; cookies expired since are dropped.
    ///
    /// # Errors
    /// Input that is not such JSON is an invalid-input error; the jar is then unchanged.
    pub fn load_json<R: BufRead>(&self, reader: R) -> Result<(), Error> {
        let loaded = cookie_store::serde::json::load(reader)
            .map_err(|e| Error::invalid_input("cookie jar JSON does not parse").with_source(e))?;
        *self.store() = match &self.inner.suffixes {
            Some(list) => loaded.with_suffix_list(list.clone()),
            None => loaded,
        };
        Ok(())
    }

    /// A new jar (the built-in public suffix list) holding the cookies of `reader`; see
    /// [`CookieJar::load_json`].
    ///
    /// # Errors
    /// Input that is not such JSON is an invalid-input error.
    pub fn from_json<R: BufRead>(reader: R) -> Result<Self, Error> {
        let jar = CookieJar::new();
        jar.load_json(reader)?;
        Ok(jar)
    }
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values stay out of logs: they are credentials.
        let store = self.store();
        f.debug_struct("CookieJar")
            .field("cookies", &store.iter_unexpired().count())
            .finish()
    }
}

/// `url` as the jar sees it: http and https as they are, ws and wss as their http twins
/// (RFC 6455 §4.1), anything else not at all; a host's trailing dot (`example.com.`) is
/// dropped, so both spellings are one host.
fn cookie_url(url: &Url) -> Option<Cow<'_, Url>> {
    let mut url = match url.scheme() {
        "http" | "https" => Cow::Borrowed(url),
        "ws" | "wss" => {
            let mut twin = url.clone();
            let scheme = if url.scheme() == "wss" {
                "https"
            } else {
                "http"
            };
            twin.set_scheme(scheme).ok()?;
            Cow::Owned(twin)
        }
        _ => return None,
    };
    if let Some(host) = url.host_str().and_then(|h| h.strip_suffix('.')) {
        let host = host.to_owned();
        url.to_mut().set_host(Some(&host)).ok()?;
    }
    Some(url)
}

/// Applies RFC 6265bis §5.7 to one received cookie; whether it was stored or deleted one.
/// `builtin`: the jar uses the `psl` crate's list, checked here (a given list is checked
/// by `cookie_store`).
fn insert(store: &mut CookieStore, url: &Url, cookie: &Cookie, builtin: bool) -> bool {
    let refuse = |why: &str| {
        tracing::debug!(name = %cookie.name, %url, "cookie refused: {why}");
        false
    };
    let secure_origin = url.scheme() == "https";
    if cookie.secure && !secure_origin {
        return refuse("Secure from a non-https URL");
    }
    if let Some(why) = prefix_violation(cookie) {
        return refuse(why);
    }
    let host = url.host_str().unwrap_or("");
    let mut host_only_twin = None;
    if let Some(domain) = cookie.domain.as_deref().filter(|_| builtin) {
        let domain = domain.trim_end_matches('.');
        if is_public_suffix(domain) {
            if !domain.eq_ignore_ascii_case(host) {
                return refuse("Domain is a public suffix");
            }
            // The suffix is the host itself: kept, host-only.
            host_only_twin = Some(Cookie {
                domain: None,
                ..cookie.clone()
            });
        }
    }
    let cookie = host_only_twin.as_ref().unwrap_or(cookie);
    if !secure_origin && shadows_secure(store, url, cookie) {
        return refuse("a Secure cookie of that name is stored, and this URL is not https");
    }
    match store.insert_raw(&to_raw(cookie), url) {
        Ok(StoreAction::ExpiredExisting) => {
            purge_expired(store);
            true
        }
        Ok(_) => true,
        Err(e) => {
            tracing::debug!(name = %cookie.name, %url, error = %e, "cookie refused");
            false
        }
    }
}

/// Whether `domain` is a public suffix of the `psl` crate's list (a rule of the list, not
/// only the implicit `*` that makes any unknown top-level label one).
fn is_public_suffix(domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    psl::suffix(domain.as_bytes())
        .is_some_and(|suffix| suffix.is_known() && suffix.as_bytes() == domain.as_bytes())
}

/// Why a cookie breaks the rule of its name's prefix (RFC 6265bis §4.1.3, matched
/// case-insensitively as §5.7 steps 20–21 say), if it does.
fn prefix_violation(cookie: &Cookie) -> Option<&'static str> {
    let starts = |prefix: &str| {
        cookie
            .name
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts("__Secure-") && !cookie.secure {
        return Some("a __Secure- cookie without Secure");
    }
    if starts("__Host-")
        && (!cookie.secure || cookie.domain.is_some() || cookie.path.as_deref() != Some("/"))
    {
        return Some("a __Host- cookie needs Secure, no Domain and Path=/");
    }
    None
}

/// RFC 6265bis §5.7 step 16: whether the store holds a `Secure` cookie that a cookie from
/// a non-secure `url` must not set, overwrite or delete: same name, domains matching one
/// way or the other, and the new cookie's path matching the stored one's.
fn shadows_secure(store: &CookieStore, url: &Url, cookie: &Cookie) -> bool {
    let domain = cookie
        .domain
        .as_deref()
        .or(url.host_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let path = match &cookie.path {
        Some(path) if path.starts_with('/') => path.clone(),
        _ => default_path(url.path()).to_owned(),
    };
    let domain_match = |a: &str, b: &str| {
        a == b || (a.len() > b.len() && a.ends_with(b) && a[..a.len() - b.len()].ends_with('.'))
    };
    store.iter_any().any(|stored| {
        stored.name() == cookie.name
            && stored.secure() == Some(true)
            && stored.domain.as_cow().is_some_and(|d| {
                let d = d.to_ascii_lowercase();
                domain_match(&d, &domain) || domain_match(&domain, &d)
            })
            && path_match(&path, &String::from(&stored.path))
    })
}

/// RFC 6265 §5.1.4 path-match: `request` is `cookie`, or under it.
fn path_match(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request[cookie.len()..].starts_with('/')))
}

/// RFC 6265 §5.1.4 default-path: the request path up to, not including, its last `/`
/// (`/` when that leaves nothing).
fn default_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &path[..at],
    }
}

/// Removes expired cookies: `cookie_store` only marks a deleted cookie expired, and HTTP.jl
/// drops them.
fn purge_expired(store: &mut CookieStore) {
    let expired: Vec<(String, String, String)> = store
        .iter_any()
        .filter(|c| c.is_expired())
        .filter_map(|c| {
            let domain = c.domain.as_cow()?.into_owned();
            Some((domain, String::from(&c.path), c.name().to_owned()))
        })
        .collect();
    for (domain, path, name) in expired {
        store.remove(&domain, &path, &name);
    }
}

/// Our cookie as the `cookie` crate's, for `cookie_store`.
fn to_raw(cookie: &Cookie) -> cookie::Cookie<'static> {
    use cookie::time::{Duration, OffsetDateTime};
    let mut raw = cookie::Cookie::new(cookie.name.clone(), cookie.value.clone());
    if let Some(path) = &cookie.path {
        raw.set_path(path.clone());
    }
    if let Some(domain) = &cookie.domain {
        raw.set_domain(domain.clone());
    }
    if cookie.secure {
        raw.set_secure(true);
    }
    if cookie.http_only {
        raw.set_http_only(true);
    }
    if let Some(same_site) = cookie.same_site {
        raw.set_same_site(match same_site {
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::None => cookie::SameSite::None,
        });
    }
    if let Some(max_age) = cookie.max_age {
        // Capped at about a century, so that "now + Max-Age" cannot overflow.
        const CENTURY: i64 = 100 * 366 * 86_400;
        raw.set_max_age(Duration::seconds(max_age.clamp(0, CENTURY)));
    }
    if let Some(expires) = cookie.expires {
        const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        let at = OffsetDateTime::from_unix_timestamp(to_unix(expires).clamp(0, MAX))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        raw.set_expires(at);
    }
    raw
}

/// A stored cookie as ours.
fn from_stored(stored: &cookie_store::Cookie<'_>) -> Cookie {
    Cookie {
        name: stored.name().to_owned(),
        value: stored.value().to_owned(),
        path: Some(String::from(&stored.path)),
        domain: stored.domain.as_cow().map(Cow::into_owned),
        expires: match stored.expires {
            CookieExpiration::AtUtc(at) => Some(from_unix(at.unix_timestamp())),
            CookieExpiration::SessionEnd => None,
        },
        max_age: None,
        secure: stored.secure().unwrap_or(false),
        http_only: stored.http_only().unwrap_or(false),
        host_only: matches!(stored.domain, CookieDomain::HostOnly(_)),
        same_site: stored.same_site().map(|s| match s {
            cookie::SameSite::Lax => SameSite::Lax,
            cookie::SameSite::Strict => SameSite::Strict,
            cookie::SameSite::None => SameSite::None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn set(jar: &CookieJar, at: &str, lines: &[&str]) {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(
                http::header::SET_COOKIE,
                HeaderValue::from_str(line).unwrap(),
            );
        }
        jar.set_cookies(&url(at), &headers);
    }

    fn sent(jar: &CookieJar, to: &str) -> String {
        jar.get_cookies(&url(to))
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn domain_matching() {
        let jar = CookieJar::new();
        set(
            &jar,
            "http://www.example.com/",
            &[
                "host=1",
                "dom=2; Domain=example.com",
                "other=3; Domain=other.com",
            ],
        );
        for (to, expected) in [
            ("http://www.example.com/", "host=1; dom=2"),
            ("http://example.com/", "dom=2"),
            ("http://a.b.example.com/", "dom=2"),
            ("http://badexample.com/", ""),
            ("http://other.com/", ""),
            ("http://WWW.EXAMPLE.COM/", "host=1; dom=2"),
        ] {
            let mut got: Vec<_> = sent(&jar, to).split("; ").map(String::from).collect();
            got.sort();
            let mut want: Vec<_> = expected.split("; ").map(String::from).collect();
            want.sort();
            assert_eq!(got, want, "to {to}");
        }
        let host = jar.get_cookies(&url("http://www.example.com/"));
        let host_only: Vec<_> = host
            .iter()
            .map(|c| (c.name.as_str(), c.host_only))
            .collect();
        assert!(host_only.contains(&("host", true)) && host_only.contains(&("dom", false)));
    }

    #[test]
    fn path_matching_and_order() {
        let jar = CookieJar::new();
        set(
            &jar,
            "http://example.com/a/b/page",
            &["default=1", "root=2; Path=/", "deep=3; Path=/a/b/c"],
        );
        for (to, expected) in [
            ("http://example.com/a/b/page", "default=1; root=2"),
            ("http://example.com/a/b/c/d", "deep=3; default=1; root=2"),
            ("http://example.com/a/b", "default=1; root=2"),
            ("http://example.com/a/bc", "root=2"),
            ("http://example.com/", "root=2"),
        ] {
            assert_eq!(sent(&jar, to), expected, "to {to}");
        }
    }

    #[test]
    fn expiry_and_max_age() {
        let jar = CookieJar::new();
        set(
            &jar,
            "http://example.com/",
            &[
                "session=1",
                "later=2; Max-Age=3600",
                "future=3; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
                "past=4; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "both=5; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "gone=6; Max-Age=0",
            ],
        );
        let mut names: Vec<_> = jar
            .get_cookies(&url("http://example.com/"))
            .into_iter()
            .map(|c| c.name)
            .collect();
        names.sort();
        assert_eq!(names, ["both", "future", "later", "session"]);

        // Deleting: Max-Age=0, a negative one, or a past Expires removes the stored cookie.
        set(
            &jar,
            "http://example.com/",
            &[
                "session=x; Max-Age=0",
                "later=x; Max-Age=-5",
                "future=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ],
        );
        assert_eq!(sent(&jar, "http://example.com/"), "both=5");
        let expires = jar.all()[0].expires.unwrap();
        assert!(expires > std::time::SystemTime::now());
    }

    #[test]
    fn replacing_a_cookie_keeps_one() {
        let jar = CookieJar::new();
        set(&jar, "http://example.com/", &["a=1"]);
        set(&jar, "http://example.com/", &["a=2"]);
        assert_eq!(sent(&jar, "http://example.com/"), "a=2");
    }

    #[test]
    fn secure_cookies_only_over_https() {
        let jar = CookieJar::new();
        set(
            &jar,
            "http://example.com/",
            &["insecure-set=1; Secure", "plain=2"],
        );
        assert_eq!(sent(&jar, "https://example.com/"), "plain=2");
        set(&jar, "https://example.com/", &["secure=3; Secure"]);
        assert_eq!(sent(&jar, "http://example.com/"), "plain=2");
        assert_eq!(sent(&jar, "https://example.com/"), "plain=2; secure=3");
        // Loopback gets no exception: `Secure` means https here, as in HTTP.jl.
        set(&jar, "https://127.0.0.1/", &["s=1; Secure"]);
        assert_eq!(sent(&jar, "http://127.0.0.1/"), "");
        assert_eq!(sent(&jar, "wss://127.0.0.1/"), "s=1");
    }

    #[test]
    fn public_suffixes_are_refused() {
        let jar = CookieJar::new();
        for (at, line, stored) in [
            ("http://www.example.com/", "a=1; Domain=com", false),
            ("http://www.example.co.uk/", "b=1; Domain=co.uk", false),
            ("http://me.github.io/", "c=1; Domain=github.io", false),
            ("http://me.github.io/", "d=1; Domain=me.github.io", true),
            (
                "http://www.example.co.uk/",
                "e=1; Domain=example.co.uk",
                true,
            ),
            // The suffix is the request host itself: kept, host-only (RFC 6265 §5.3 step 5).
            ("http://github.io/", "f=1; Domain=github.io", true),
        ] {
            let cookie = Cookie::parse_set_cookie(line).unwrap();
            assert_eq!(
                jar.set_cookie(&url(at), &cookie),
                stored,
                "{line} from {at}"
            );
        }
        let f = jar.get_cookies(&url("http://github.io/"));
        assert!(f[0].host_only);
        assert_eq!(sent(&jar, "http://other.github.io/"), "");
    }

    #[test]
    fn the_whole_public_suffix_list_is_known() {
        // Suffixes a 110-entry subset lacked: wildcard rules, deep registries, platforms.
        let jar = CookieJar::new();
        for (at, line) in [
            ("http://a.test.ck/", "s=1; Domain=test.ck"),
            ("http://a.x.kawasaki.jp/", "s=1; Domain=x.kawasaki.jp"),
            ("http://a.b.pvt.k12.ma.us/", "s=1; Domain=pvt.k12.ma.us"),
            ("http://me.myshopify.com/", "s=1; Domain=myshopify.com"),
            ("http://docs.readthedocs.io/", "s=1; Domain=readthedocs.io"),
            ("http://a.example.com.ar/", "s=1; Domain=com.ar"),
        ] {
            let cookie = Cookie::parse_set_cookie(line).unwrap();
            assert!(!jar.set_cookie(&url(at), &cookie), "{line} from {at}");
        }
        // An exception rule (!www.ck) is an ordinary domain.
        set(&jar, "http://a.www.ck/", &["ok=1; Domain=www.ck"]);
        assert_eq!(sent(&jar, "http://b.www.ck/"), "ok=1");
    }

    #[test]
    fn name_prefixes_are_enforced_case_insensitively() {
        let jar = CookieJar::new();
        set(
            &jar,
            "https://www.example.com/app/",
            &[
                "__Secure-a=1",
                "__Secure-b=1; Secure",
                "__secure-c=1",
                "__Host-d=1; Secure; Path=/",
                "__Host-e=1; Secure; Path=/; Domain=example.com",
                "__Host-f=1; Secure",
                "__HOST-g=1; Path=/",
                "__host-h=1; Secure; Path=/",
            ],
        );
        let mut names: Vec<_> = jar.all().into_iter().map(|c| c.name).collect();
        names.sort();
        assert_eq!(names, ["__Host-d", "__Secure-b", "__host-h"]);
        // From http, even with Secure (which http cannot set), nothing.
        let jar = CookieJar::new();
        set(&jar, "http://example.com/", &["__Secure-x=1; Secure"]);
        assert!(jar.is_empty());
    }

    #[test]
    fn http_cannot_set_overwrite_or_delete_a_secure_cookie() {
        let jar = CookieJar::new();
        set(&jar, "https://example.com/", &["id=secure; Secure; Path=/"]);
        set(&jar, "http://example.com/", &["id=plain"]);
        set(&jar, "http://example.com/", &["id=gone; Max-Age=0"]);
        set(
            &jar,
            "http://www.example.com/a",
            &["id=sub; Domain=example.com; Path=/a"],
        );
        assert_eq!(sent(&jar, "https://example.com/"), "id=secure");
        // Another name, or a path the secure one does not cover, is fine.
        set(&jar, "http://example.com/", &["other=1"]);
        set(
            &jar,
            "https://example.com/",
            &["deep=secure; Secure; Path=/deep"],
        );
        set(&jar, "http://example.com/", &["deep=plain; Path=/"]);
        assert_eq!(sent(&jar, "http://example.com/"), "other=1; deep=plain");
        // https itself may replace it.
        set(&jar, "https://example.com/", &["id=new; Secure; Path=/"]);
        assert!(sent(&jar, "https://example.com/").contains("id=new"));
    }

    #[test]
    fn a_trailing_dot_is_the_same_host() {
        let jar = CookieJar::new();
        set(&jar, "http://Example.com./", &["a=1"]);
        assert_eq!(sent(&jar, "http://example.com/"), "a=1");
        set(&jar, "http://example.com/", &["b=2"]);
        assert_eq!(sent(&jar, "http://example.com./"), "a=1; b=2");
    }

    #[test]
    fn a_full_public_suffix_list_can_be_given() {
        let jar = CookieJar::with_public_suffix_list(
            "// ===BEGIN ICANN DOMAINS===\nexample\n// ===END ICANN DOMAINS===\n",
        )
        .unwrap();
        set(&jar, "http://a.example/", &["x=1; Domain=example"]);
        assert!(jar.is_empty());
        assert!(CookieJar::with_public_suffix_list("").is_err());
    }

    #[test]
    fn non_http_urls_take_no_part() {
        let jar = CookieJar::new();
        set(&jar, "ftp://example.com/", &["a=1"]);
        assert!(jar.is_empty());
        set(&jar, "ws://example.com/", &["b=1"]);
        assert_eq!(sent(&jar, "http://example.com/"), "b=1");
        assert_eq!(sent(&jar, "ftp://example.com/"), "");
    }

    #[test]
    fn clones_share_and_clear_empties() {
        let jar = CookieJar::new();
        let other = jar.clone();
        set(&other, "http://example.com/", &["a=1"]);
        assert_eq!(sent(&jar, "http://example.com/"), "a=1");
        jar.clear();
        assert!(other.is_empty());
    }

    #[test]
    fn save_and_load_round_trip() {
        let jar = CookieJar::new();
        set(
            &jar,
            "https://www.example.com/",
            &[
                "session=1; HttpOnly",
                "persistent=2; Max-Age=3600; Path=/app; Secure; SameSite=Strict",
                "dom=3; Domain=example.com",
                "gone=4; Max-Age=0",
            ],
        );
        let mut saved = Vec::new();
        jar.save_json(&mut saved).unwrap();

        let loaded = CookieJar::from_json(saved.as_slice()).unwrap();
        let key = |mut v: Vec<Cookie>| {
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v
        };
        assert_eq!(key(loaded.all()), key(jar.all()));
        assert_eq!(loaded.all().len(), 3);
        // The loaded jar still refuses public suffixes.
        set(&loaded, "http://www.example.com/", &["x=1; Domain=com"]);
        assert_eq!(loaded.all().len(), 3);

        let before = loaded.all().len();
        assert!(loaded.load_json(&b"not json"[..]).is_err());
        assert_eq!(loaded.all().len(), before);
    }
}
