//! Cookie parsing and jar look-ups, per operation: `Set-Cookie` lines (HTTP.jl's rules), a
//! request `Cookie` header, and a jar storing a response's cookies and answering a request.
//!
//! `cargo bench --bench cookie_parse`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use http::{HeaderMap, HeaderValue};
use httpstack::middleware::cookies::{Cookie, CookieJar, Url};

/// A full `Set-Cookie` line, every attribute (Go's test corpus, with a date in the future).
const FULL: &str = "NID=99=YsDT5i3E-CXax-; expires=Wed, 23-Nov-2061 01:05:03 GMT; path=/; \
                    domain=.google.ch; HttpOnly; Secure; SameSite=Lax";
/// A typical session cookie.
const SESSION: &str = "session=8f14e45fceea167a5a36dedd4bea2543; Path=/; HttpOnly";
/// A request `Cookie` header with five pairs, one quoted.
const REQUEST: &str =
    "a=1; session=8f14e45fceea167a5a36dedd4bea2543; theme=\"dark\"; lang=en; _ga=GA1.2.3";

fn parsing(c: &mut Criterion) {
    c.bench_function("parse_set_cookie/full", |b| {
        b.iter(|| Cookie::parse_set_cookie(black_box(FULL)))
    });
    c.bench_function("parse_set_cookie/session", |b| {
        b.iter(|| Cookie::parse_set_cookie(black_box(SESSION)))
    });
    c.bench_function("parse_cookie_header/5_pairs", |b| {
        b.iter(|| Cookie::parse_cookie_header(black_box(REQUEST)))
    });
    let cookie = Cookie::parse_set_cookie(FULL).expect("valid line");
    c.bench_function("to_set_cookie_string/full", |b| {
        b.iter(|| black_box(&cookie).to_set_cookie_string())
    });
}

fn jar(c: &mut Criterion) {
    let url = Url::parse("https://www.example.com/app/page").expect("url");
    let mut headers = HeaderMap::new();
    headers.append("set-cookie", HeaderValue::from_static(SESSION));
    headers.append(
        "set-cookie",
        HeaderValue::from_static("pref=1; Domain=example.com; Path=/; Max-Age=3600"),
    );
    let jar = CookieJar::new();
    c.bench_function("jar/set_cookies_2", |b| {
        b.iter(|| jar.set_cookies(black_box(&url), black_box(&headers)))
    });
    c.bench_function("jar/get_cookies_2", |b| {
        b.iter(|| jar.get_cookies(black_box(&url)))
    });
}

criterion_group!(benches, parsing, jar);
criterion_main!(benches);
