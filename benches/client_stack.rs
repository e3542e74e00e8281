//! The per-request cost of httpstack's whole default client stack (docs/design.md's order:
//! redirect, headers, cookies, retry, log_errors, timeout, status, decompression) over
//! a transport that answers at once with no I/O (a `service_fn`), against that bare
//! transport; and the same stack with `observe_layers` (every layer timed).
//!
//! Issue 4's goal: under 2 µs added per request with everything on but observe.
//!
//! `BENCH_EACH=1` adds one row per layer alone over the transport.
//!
//! Run: `cargo bench --bench client_stack` (criterion; `-- --measurement-time 3` to
//! shorten).

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use futures_util::FutureExt;
use http::{Request, Response};
use http_body_util::Full;
use httpstack::middleware::cookies::{CookieJar, CookieLayer};
use httpstack::middleware::decompression::DecompressionLayer;
use httpstack::middleware::headers::HeadersLayer;
use httpstack::middleware::log_errors::LogErrorsLayer;
use httpstack::middleware::observe::ObserveLayer;
use httpstack::middleware::redirect::RedirectLayer;
use httpstack::middleware::retry::RetryLayer;
use httpstack::middleware::status::StatusLayer;
use httpstack::middleware::timeout::TimeoutLayer;
use httpstack::{Body, Error};
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};

/// The transport: a 200 with a small body, at once.
fn transport(
) -> impl Service<Request<Body>, Response = Response<Full<Bytes>>, Error = Error, Future = impl Send>
       + Clone {
    service_fn(|_req: Request<Body>| async {
        Ok::<_, Error>(Response::new(Full::new(Bytes::from_static(
            b"{\"ok\":true}",
        ))))
    })
}

/// A request as the client sends it: absolute URI, a few headers, an empty body.
fn request() -> Request<Body> {
    Request::get("http://api.bench.test/v1/items?page=2")
        .header("accept", "application/json")
        .header("x-request-id", "7f3c")
        .body(Body::empty())
        .unwrap_or_else(|_| unreachable!("a valid request"))
}

/// Runs one request through `svc`; every layer and the transport are ready at once.
fn once<S>(svc: &S)
where
    S: Service<Request<Body>> + Clone,
    S::Error: std::fmt::Debug,
{
    let resp = svc.clone().oneshot(request()).now_or_never();
    match resp {
        Some(Ok(resp)) => {
            black_box(resp);
        }
        other => panic!(
            "the stack did not answer at once: {:?}",
            other.map(|r| r.err())
        ),
    }
}

/// One request through one layer over the transport (the `BENCH_EACH=1` rows).
type OneRequest = Box<dyn Fn()>;

fn stack(c: &mut Criterion) {
    // Timers and the retry layer's sleeps need a runtime to exist (none fires here).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let _guard = rt.enter();
    let jar = CookieJar::new();

    let bare = transport();
    let full = ServiceBuilder::new()
        .layer(RedirectLayer::new())
        .layer(HeadersLayer::new())
        .layer(CookieLayer::new(jar.clone()))
        .layer(RetryLayer::new())
        .layer(LogErrorsLayer::new())
        .layer(TimeoutLayer::new())
        .layer(StatusLayer::new())
        .layer(DecompressionLayer::new())
        .service(transport());
    let observed = ServiceBuilder::new()
        .layer(ObserveLayer::new("redirect"))
        .layer(RedirectLayer::new())
        .layer(ObserveLayer::new("headers"))
        .layer(HeadersLayer::new())
        .layer(ObserveLayer::new("cookies"))
        .layer(CookieLayer::new(jar))
        .layer(ObserveLayer::new("retry"))
        .layer(RetryLayer::new())
        .layer(ObserveLayer::new("log_errors"))
        .layer(LogErrorsLayer::new())
        .layer(ObserveLayer::new("timeout"))
        .layer(TimeoutLayer::new())
        .layer(ObserveLayer::new("status"))
        .layer(StatusLayer::new())
        .layer(ObserveLayer::new("decompression"))
        .layer(DecompressionLayer::new())
        .layer(ObserveLayer::new("transport"))
        .service(transport());

    let mut group = c.benchmark_group("client_stack");
    group.bench_function("bare_transport", |b| b.iter(|| once(&bare)));
    group.bench_function("default_stack", |b| b.iter(|| once(&full)));
    group.bench_function("default_stack_observed", |b| b.iter(|| once(&observed)));
    if std::env::var("BENCH_EACH").is_ok() {
        let jar2 = CookieJar::new();
        let each: Vec<(&str, OneRequest)> = vec![
            ("redirect", {
                let s = RedirectLayer::new().layer(transport());
                Box::new(move || once(&s))
            }),
            ("headers", {
                let s = HeadersLayer::new().layer(transport());
                Box::new(move || once(&s))
            }),
            ("cookies", {
                let s = CookieLayer::new(jar2.clone()).layer(transport());
                Box::new(move || once(&s))
            }),
            ("retry", {
                let s = RetryLayer::new().layer(transport());
                Box::new(move || once(&s))
            }),
            ("log_errors", {
                let s = LogErrorsLayer::new().layer(transport());
                Box::new(move || once(&s))
            }),
            ("timeout", {
                let s = TimeoutLayer::new().layer(transport());
                Box::new(move || once(&s))
            }),
            ("status", {
                let s = StatusLayer::new().layer(transport());
                Box::new(move || once(&s))
            }),
            ("decompression", {
                let s = DecompressionLayer::new().layer(transport());
                Box::new(move || once(&s))
            }),
        ];
        for (name, f) in each {
            group.bench_function(name, |b| b.iter(&f));
        }
    }
    group.finish();
}

criterion_group!(benches, stack);
criterion_main!(benches);
