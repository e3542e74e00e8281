//! What the retry layer costs per request when nothing fails: criterion micro-benchmark
//! around an in-process service that answers at once (no sockets, no runtime).
//!
//! Run: `cargo bench --bench retry_layer` (about 10 s).
//!
//! Cells: the bare service; the layer with `retry` off (the request goes straight
//! through); the layer on, without and with the per-host budget (the request is copied
//! for a possible retry, the budget counts it).

use std::convert::Infallible;
use std::future::Ready;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::FutureExt;
use http::{Request, Response};
use httpstack::middleware::retry::RetryLayer;
use httpstack::Body;
use tower::{Layer, Service};

/// Answers 200 at once, like a server that never fails.
#[derive(Clone, Copy)]
struct Ok200;

impl Service<Request<Body>> for Ok200 {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<Body>) -> Self::Future {
        std::future::ready(Ok(Response::new(Body::empty())))
    }
}

fn request() -> Request<Body> {
    Request::get("http://example.com/widgets?page=2")
        .header("accept", "application/json")
        .header("user-agent", "httpstack")
        .body(Body::from("payload"))
        .unwrap()
}

fn run<S>(svc: &mut S) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    match svc.call(request()).now_or_never() {
        Some(Ok(resp)) => resp,
        _ => unreachable!("the service answers at once"),
    }
}

fn retry_layer(c: &mut Criterion) {
    let mut group = c.benchmark_group("retry_layer");
    let mut bare = Ok200;
    group.bench_function("bare", |b| b.iter(|| black_box(run(&mut bare))));
    let mut off = RetryLayer::new().retry(false).layer(Ok200);
    group.bench_function("retry_off", |b| b.iter(|| black_box(run(&mut off))));
    let mut on = RetryLayer::new().no_budget().layer(Ok200);
    group.bench_function("retry_on_no_budget", |b| b.iter(|| black_box(run(&mut on))));
    let mut budget = RetryLayer::new().layer(Ok200);
    group.bench_function("retry_on_with_budget", |b| {
        b.iter(|| black_box(run(&mut budget)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = retry_layer
}
criterion_main!(benches);
