//! The redirect layer's own cost, against an inner service that answers at once (no I/O):
//! the bare service, the layer switched off, the layer on with no redirect (what every
//! request pays: keeping the request head and a body copy for a possible next hop), and
//! one and three followed redirects.
//!
//! Run: `cargo bench --bench redirect` (criterion; pass `-- --measurement-time 2` to
//! shorten).

use std::convert::Infallible;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use futures_util::FutureExt;
use http::{Request, Response};
use httpstack::middleware::redirect::{RedirectConfig, RedirectLayer};
use httpstack::Body;
use tower::{service_fn, Layer, Service, ServiceExt};

/// `/r/{n}` redirects (302, relative Location) to `/r/{n-1}`; anything else is 200.
async fn site(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path();
    let next = path
        .strip_prefix("/r/")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > 0);
    let mut resp = Response::new(Body::empty());
    if let Some(n) = next {
        *resp.status_mut() = http::StatusCode::FOUND;
        let location = http::HeaderValue::from_str(&(n - 1).to_string())
            .unwrap_or_else(|_| http::HeaderValue::from_static("0"));
        resp.headers_mut().insert(http::header::LOCATION, location);
    }
    Ok(resp)
}

/// A request as a client sends it: a few headers, an empty body.
fn request(path: &str) -> Request<Body> {
    Request::get(format!("http://bench.test{path}"))
        .header("user-agent", "httpstack/0.1")
        .header("accept", "*/*")
        .header("accept-encoding", "gzip, deflate, br")
        .header("x-request-id", "0123456789abcdef")
        .body(Body::empty())
        .unwrap()
}

/// Runs one request through `svc`; the inner service never waits, so one poll finishes it.
fn run<S>(svc: &mut S, path: &str)
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Error: std::fmt::Debug,
{
    let fut = svc
        .ready()
        .now_or_never()
        .unwrap()
        .unwrap()
        .call(request(path));
    black_box(fut.now_or_never().unwrap().unwrap());
}

fn redirect(c: &mut Criterion) {
    let mut group = c.benchmark_group("redirect");
    let mut bare = service_fn(site);
    group.bench_function("bare service", |b| b.iter(|| run(&mut bare, "/plain")));
    let off = RedirectConfig {
        redirect: false,
        ..RedirectConfig::default()
    };
    let mut layer_off = RedirectLayer::new().config(off).layer(service_fn(site));
    group.bench_function("layer off", |b| b.iter(|| run(&mut layer_off, "/plain")));
    let mut layer_on = RedirectLayer::new().layer(service_fn(site));
    group.bench_function("layer on, no redirect", |b| {
        b.iter(|| run(&mut layer_on, "/plain"))
    });
    group.bench_function("one redirect", |b| b.iter(|| run(&mut layer_on, "/r/1")));
    group.bench_function("three redirects", |b| b.iter(|| run(&mut layer_on, "/r/3")));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = redirect
}
criterion_main!(benches);
