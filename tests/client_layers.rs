//! Client composition (HTTP.jl `pushlayer!`, `pushfirstlayer!`, stream layers, `poplayer!`,
//! `@client`), `observe_layers` and `log_errors`, against httpstack's own server.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response};
use httpstack::client::ClientService;
use httpstack::middleware::retry::ExponentialBackOff;
use httpstack::server::{handler_fn, serve, Server};
use httpstack::{Body, Client, Error};
use tower::ServiceExt;

/// Answers with the request's `x-trace` headers, in order, joined by commas; `/status/N`
/// answers N.
async fn app(req: Request<httpstack::Body>) -> Response<Body> {
    let trace: Vec<&str> = req
        .headers()
        .get_all("x-trace")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let status = req
        .uri()
        .path()
        .strip_prefix("/status/")
        .and_then(|code| code.parse().ok())
        .unwrap_or(200);
    Response::builder()
        .status(status)
        .header(
            "x-auth",
            req.headers()
                .get("authorization")
                .cloned()
                .unwrap_or_else(|| "none".parse().unwrap()),
        )
        .body(Body::from(trace.join(",")))
        .unwrap()
}

async fn server() -> Server {
    serve("127.0.0.1:0", handler_fn(app)).await.unwrap()
}

/// A layer that appends `name` to the request's `x-trace` headers and to `log` on the way
/// in, and `name/` to `log` on the way out.
fn tracer(
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
) -> impl tower::Layer<ClientService, Service = ClientService> + Clone + Send + Sync + 'static {
    tower::layer::layer_fn(move |inner: ClientService| {
        let log = log.clone();
        ClientService::new(tower::service_fn(move |mut req: Request<Body>| {
            let (inner, log) = (inner.clone(), log.clone());
            async move {
                log.lock().unwrap().push(name.to_owned());
                req.headers_mut().append("x-trace", name.parse().unwrap());
                let resp = inner.oneshot(req).await;
                log.lock().unwrap().push(format!("{name}/"));
                resp
            }
        }))
    })
}

#[tokio::test]
async fn layers_run_in_httpjl_order_and_pop_removes_the_last_pushed() {
    let srv = server().await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = Client::builder()
        .push_layer(tracer("outer1", log.clone()))
        .push_layer(tracer("outer2", log.clone()))
        .push_first_layer(tracer("first1", log.clone()))
        .push_first_layer(tracer("first2", log.clone()))
        .push_stream_layer(tracer("stream1", log.clone()))
        .push_stream_layer(tracer("stream2", log.clone()))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{}/", srv.port());
    let resp = support::within("request", client.get(&url)).await.unwrap();
    // pushlayer!: the last pushed runs first; pushfirstlayer!: the last pushed runs last.
    assert_eq!(resp.text(), "outer2,outer1,first1,first2,stream2,stream1");
    assert_eq!(
        log.lock().unwrap().join(" "),
        "outer2 outer1 first1 first2 stream2 stream1 stream1/ stream2/ first2/ first1/ outer1/ outer2/"
    );

    let popped = client
        .to_builder()
        .pop_layer()
        .pop_first_layer()
        .pop_stream_layer()
        .build()
        .unwrap();
    let resp = support::within("request", popped.get(&url)).await.unwrap();
    assert_eq!(resp.text(), "outer1,first1,stream1");
    // The original client is unchanged.
    let resp = support::within("request", client.get(&url)).await.unwrap();
    assert_eq!(resp.text(), "outer2,outer1,first1,first2,stream2,stream1");
    srv.close().await;
}

#[tokio::test]
async fn to_builder_keeps_settings_and_derives_a_new_client() {
    let srv = server().await;
    let base = Client::builder()
        .default_header("x-trace", "default")
        .status_exception(false)
        .build()
        .unwrap();
    let derived = base
        .to_builder()
        .push_layer(tracer("added", Arc::default()))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{}/status/404", srv.port());
    let resp = support::within("request", derived.get(&url)).await.unwrap();
    assert_eq!(resp.status(), 404, "status_exception(false) kept");
    assert_eq!(
        resp.text(),
        "default,added",
        "default headers are set before the layers run"
    );
    let resp = support::within("request", base.get(&url)).await.unwrap();
    assert_eq!(resp.text(), "default");
    srv.close().await;
}

/// HTTP.jl's auth-layer example: a custom layer reading its own per-request option.
#[derive(Clone)]
struct AuthCreds(&'static str);

fn auth_layer() -> impl tower::Layer<ClientService, Service = ClientService> + Clone + Send + Sync {
    tower::layer::layer_fn(|inner: ClientService| {
        ClientService::new(tower::service_fn(move |mut req: Request<Body>| {
            if let Some(AuthCreds(token)) = req.extensions().get::<AuthCreds>().cloned() {
                let value = format!("Bearer {token}").parse().unwrap();
                req.headers_mut().insert(http::header::AUTHORIZATION, value);
            }
            inner.clone().oneshot(req)
        }))
    })
}

httpstack::client! {
    /// A test API client.
    struct TestApi {
        base_url: "http://127.0.0.1:9/api",
        headers: [("x-trace", "api-default")],
        layers: [auth_layer()],
        configure: |b| b.status_exception(false),
    }
}

httpstack::client! {
    /// Fields in another order.
    struct ReorderedApi {
        configure: |b| b.status_exception(false),
        headers: [("x-trace", "reordered")],
        base_url: format!("http://127.0.0.1:{}", 9),
    }
}

httpstack::client! {
    /// No fields at all: paths are whole URLs.
    pub struct BareApi {}
}

httpstack::client! {
    struct BrokenApi {
        base_url: "http://127.0.0.1:9",
        headers: [("bad header name", "x")],
    }
}

fn assert_shared<T: Clone + Send + Sync + 'static>() {}

#[tokio::test]
async fn client_macro_defines_an_api_client_with_its_own_layers() {
    assert_shared::<TestApi>();
    let srv = server().await;
    let base = format!("http://127.0.0.1:{}/api", srv.port());
    let api = TestApi::builder().base_url(&base).build().unwrap();
    let req = api
        .get("/users/1")
        .extension(AuthCreds("s3cr3t"))
        .build()
        .unwrap();
    assert_eq!(req.uri().to_string(), format!("{base}/users/1"));
    let resp = support::within("request", api.client().execute(req))
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-auth"], "Bearer s3cr3t");
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&body[..], b"api-default");
    // configure: status_exception(false), so a 404 is a response.
    let url = format!("http://127.0.0.1:{}/status/404", srv.port());
    let resp = support::within("request", api.client().get(url))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // new(): the macro's settings as written.
    assert_eq!(TestApi::new().base_url(), "http://127.0.0.1:9/api");
    assert_eq!(ReorderedApi::new().base_url(), "http://127.0.0.1:9");
    assert_eq!(BareApi::new().base_url(), "");
    let bare = BareApi::new();
    let resp = support::within("request", bare.get(format!("{base}/x")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A runtime token; with_client keeps the base URL over a client of one's own.
    let api = ReorderedApi::builder()
        .base_url(&base)
        .bearer_auth("t0ken")
        .build()
        .unwrap();
    let resp = support::within("request", api.get("/")).await.unwrap();
    assert_eq!(resp.headers()["x-auth"], "Bearer t0ken");
    assert_eq!(resp.text(), "reordered");
    let own = TestApi::with_client(Client::new());
    assert_eq!(own.base_url(), "http://127.0.0.1:9/api");
    // Invalid settings: an error from builder().build(), a panic from new().
    let err = BrokenApi::builder().build().unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(std::panic::catch_unwind(BrokenApi::new).is_err());
    srv.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_api_client_is_one_pool_and_one_jar_across_tasks_and_threads() {
    // Counts connections and echoes the cookie it was sent; /login sets one.
    let connections = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let seen = connections.clone();
    let handler = handler_fn(move |req: Request<httpstack::Body>| {
        if let Some(peer) = req.extensions().get::<httpstack::server::PeerAddr>() {
            seen.lock().unwrap().insert(peer.0);
        }
        let cookie = req
            .headers()
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_owned();
        let login = req.uri().path() == "/login";
        async move {
            let mut resp = Response::builder();
            if login {
                resp = resp.header("set-cookie", "session=abc; Path=/");
            }
            resp.body(Body::from(cookie)).unwrap()
        }
    });
    let srv = support::within(
        "serve",
        Server::bind("127.0.0.1:0").peer_addr(true).serve(handler),
    )
    .await
    .unwrap();
    let api = BareApi::builder()
        .base_url(format!("http://127.0.0.1:{}", srv.port()))
        .build()
        .unwrap();
    support::within("login", api.post("/login")).await.unwrap();
    // 32 requests, one after another, each from a task spawned on any of 4 threads.
    for _ in 0..32 {
        let api = api.clone();
        let cookie = support::within(
            "request",
            tokio::spawn(async move { api.get("/me").await.map(|r| r.text()) }),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(cookie, "session=abc");
    }
    // One pool: its connection is reused. hyper-util puts an HTTP/1.1 connection back in
    // its pool from a background task once the connection is idle again, so a request
    // that follows at once may find none idle and open a second one (seen under load).
    // A client per thread (what this replaced) opened one per worker thread and sent no
    // cookie.
    let opened = connections.lock().unwrap().len();
    assert!((1..=2).contains(&opened), "one pool: {opened} connections");
    srv.close().await;
}

#[tokio::test]
async fn observe_layers_times_every_layer_cumulatively() {
    let srv = server().await;
    let client = Client::builder()
        .observe_layers(true)
        .push_layer(tracer("mine", Arc::default()))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{}/", srv.port());
    let resp = support::within("request", client.get(&url)).await.unwrap();
    let timings = resp.layer_timings().expect("timings recorded");
    let names: Vec<String> = timings
        .layers()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    // Outermost first: the deadline, then the pushed layer, then the built-in ones.
    assert_eq!(
        names.iter().take(2).map(String::as_str).collect::<Vec<_>>(),
        ["deadline", "LayerFn"],
        "{names:?}"
    );
    for name in [
        "headers",
        "log_errors",
        "timeout",
        "status",
        "decompression",
        "transport",
    ] {
        let t = timings
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing: {names:?}"));
        assert_eq!(t.count, 1, "{name}");
    }
    // Inclusive times: each layer contains the one below it.
    let outer = timings.get("headers").unwrap().duration;
    let inner = timings.get("transport").unwrap().duration;
    assert!(outer >= inner, "{outer:?} < {inner:?}");

    // Without observe_layers nothing is recorded.
    let plain = Client::new();
    let resp = support::within("request", plain.get(&url)).await.unwrap();
    assert!(resp.layer_timings().is_none());
    srv.close().await;
}

#[tokio::test]
async fn log_errors_logs_each_failed_attempt_with_its_tag() {
    use std::io::Write;
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let srv = server().await;
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let url = format!("http://127.0.0.1:{}/status/503", srv.port());
    // Two attempts, both logged: log_errors sits below the retry layer.
    let client = Client::builder()
        .log_errors(true)
        .log_tag("billing")
        .retries(1)
        .retry_delays(ExponentialBackOff::fixed(Duration::from_millis(1)))
        .build()
        .unwrap();
    let err: Error = support::within("request", client.get(&url))
        .await
        .unwrap_err();
    assert!(err.is_status());
    // Per request: off overrides the client's on.
    let _ = support::within("request", client.get(&url).log_errors(false).retry(false)).await;
    // A closed port: a ConnectError.
    let closed_port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let closed = format!("http://127.0.0.1:{closed_port}/");
    let _ = support::within(
        "request",
        Client::new()
            .get(&closed)
            .log_errors(true)
            .log_tag("other")
            .retry(false),
    )
    .await;

    let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for line in &lines[..2] {
        assert!(
            line.contains("StatusError on GET") && line.contains("tag=\"billing\""),
            "{out}"
        );
    }
    assert!(
        lines[2].contains("ConnectError on GET") && lines[2].contains("tag=\"other\""),
        "{out}"
    );
    srv.close().await;
}
