//! The router: HTTP.jl's matching rules as a table (called directly with `oneshot`), then
//! custom 404/405 handlers, the router middleware, re-registering, HEAD, handler failures
//! and path normalization over real sockets with httpstack's own server and client.

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use httpstack::router::{param, params, route, Lookup, Route, Router};
use httpstack::server::{handler_fn, serve};
use httpstack::Body;

use support::raw_http::{connect, exchange, read_head, read_until_closed, write};
use support::within;
use tower::{Service, ServiceExt};

/// Answers `"<route> <name>=<value> ..."` from what the router put in the request.
async fn describe<B>(req: Request<B>) -> Response<String> {
    let mut text = route(&req).unwrap_or("unrouted").to_owned();
    for (name, value) in params(&req).into_iter().flat_map(|p| p.iter()) {
        text.push_str(&format!(" {name}={value}"));
    }
    Response::new(text)
}

/// The routes of the matching table: (method, pattern); `*` registers for any method.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/api/widgets"),
    ("GET", "/api/widgets/special"),
    ("GET", "/api/widgets/{id:[0-9]+}"),
    ("GET", "/api/widgets/{name}"),
    ("POST", "/api/widgets/{name}"),
    ("GET", "/api/{kind}/owner"),
    ("DELETE", "/api/*/owner"),
    ("GET", "/api/**"),
    ("GET", "/files/{n:\\w+}"),
    ("GET", "/files/{n:\\w+}/raw"),
    ("GET", "/files/**"),
    ("GET", "/users/{id:[0-9]+}/posts/{post}"),
    ("GET", "/users/{name}/posts/{post:[a-z]+}"),
    ("GET", "/src/{*path}"),
    ("*", "/any/{x}"),
    ("GET", "/any/{y}"),
    ("GET", "/ver/{v:v[0-9]+}/items"),
    ("GET", "/ver/{w:[a-z]+[0-9]}/items"),
    ("GET", "/a/{x}/c"),
    ("GET", "/a/b/{y}"),
    ("GET", "/deep/{a}/{b}/{c}"),
    ("GET", "/deep/**"),
    ("GET", "/h"),
    ("GET", "/pct/{v}"),
    ("GET", "/m/{x:[a-z]+}/{y}"),
    ("GET", "/m/*/c"),
    ("GET", "/stars/*/*"),
];

/// (method, request target, expected `describe` output or status).
const CASES: &[(&str, &str, &str)] = &[
    ("GET", "/", "/"),
    ("GET", "//", "/"),
    ("GET", "/api/widgets", "/api/widgets"),
    ("GET", "/api/widgets/", "/api/widgets"),
    ("GET", "//api//widgets//", "/api/widgets"),
    ("GET", "/api/widgets?page=2", "/api/widgets"),
    ("GET", "/api/widgets/special", "/api/widgets/special"),
    ("GET", "/api/widgets/42", "/api/widgets/{id:[0-9]+} id=42"),
    (
        "GET",
        "/api/widgets/42?x=1",
        "/api/widgets/{id:[0-9]+} id=42",
    ),
    // The regex must match the whole segment.
    ("GET", "/api/widgets/4x2", "/api/widgets/{name} name=4x2"),
    ("GET", "/api/widgets/abc", "/api/widgets/{name} name=abc"),
    // The regex route has no POST: the variable route, less specific, takes it.
    ("POST", "/api/widgets/42", "/api/widgets/{name} name=42"),
    ("PUT", "/api/widgets/42", "405"),
    ("OPTIONS", "/api/widgets", "405"),
    ("GET", "/api/x/owner", "/api/{kind}/owner kind=x"),
    ("DELETE", "/api/x/owner", "/api/*/owner"),
    ("GET", "/api/x/y/z", "/api/**"),
    ("GET", "/api/widgets/1/2", "/api/**"),
    // `**` needs at least one segment.
    ("GET", "/api", "404"),
    ("GET", "/files/abc", "/files/{n:\\w+} n=abc"),
    // A failed regex falls back to a less specific route.
    ("GET", "/files/a.b", "/files/**"),
    ("GET", "/files/abc/raw", "/files/{n:\\w+}/raw n=abc"),
    ("GET", "/files/a.b/raw", "/files/**"),
    ("GET", "/files/abc/other", "/files/**"),
    (
        "GET",
        "/users/7/posts/hello",
        "/users/{id:[0-9]+}/posts/{post} id=7 post=hello",
    ),
    (
        "GET",
        "/users/7/posts/123",
        "/users/{id:[0-9]+}/posts/{post} id=7 post=123",
    ),
    (
        "GET",
        "/users/bob/posts/hello",
        "/users/{name}/posts/{post:[a-z]+} name=bob post=hello",
    ),
    ("GET", "/users/bob/posts/123", "404"),
    ("GET", "/src/a/b/c.rs", "/src/{*path} path=a/b/c.rs"),
    ("GET", "/src/x", "/src/{*path} path=x"),
    ("GET", "/src//a//b/", "/src/{*path} path=a/b"),
    ("GET", "/src", "404"),
    // A route for the exact method comes before the any-method one.
    ("GET", "/any/1", "/any/{y} y=1"),
    ("PATCH", "/any/1", "/any/{x} x=1"),
    // Two regexes at one place: registration order.
    ("GET", "/ver/v2/items", "/ver/{v:v[0-9]+}/items v=v2"),
    ("GET", "/ver/ab1/items", "/ver/{w:[a-z]+[0-9]}/items w=ab1"),
    ("GET", "/ver/v2x/items", "404"),
    // Segment by segment: the exact `b` wins over `{x}` at the second segment.
    ("GET", "/a/b/c", "/a/b/{y} y=c"),
    ("GET", "/a/z/c", "/a/{x}/c x=z"),
    ("GET", "/deep/1/2/3", "/deep/{a}/{b}/{c} a=1 b=2 c=3"),
    ("GET", "/deep/1/2", "/deep/**"),
    ("GET", "/deep/1/2/3/4", "/deep/**"),
    // HEAD falls back to GET.
    ("HEAD", "/h", "/h"),
    ("POST", "/h", "405"),
    // Values are percent-decoded; an encoded slash stays inside its segment.
    ("GET", "/pct/a%20b", "/pct/{v} v=a b"),
    ("GET", "/pct/a%2Fb", "/pct/{v} v=a/b"),
    // The regex at the second segment beats `*` there, even though `*/c` is exact after.
    ("GET", "/m/ab/c", "/m/{x:[a-z]+}/{y} x=ab y=c"),
    ("GET", "/m/12/c", "/m/*/c"),
    ("GET", "/stars/1/2", "/stars/*/*"),
    ("GET", "/stars/1", "404"),
    ("GET", "/nope", "404"),
    ("GET", "/API/widgets", "404"),
];

fn table_router() -> Router<()> {
    let mut router = Router::new();
    for &(method, pattern) in ROUTES {
        let result = if method == "*" {
            router.route(pattern, describe::<()>)
        } else {
            router.register(method.parse().unwrap(), pattern, describe::<()>)
        };
        result.unwrap_or_else(|e| panic!("{method} {pattern}: {e}"));
    }
    router
}

async fn answer<S>(svc: &S, method: &str, target: &str) -> String
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let req = Request::builder()
        .method(method)
        .uri(target)
        .body(())
        .unwrap();
    let resp = svc.clone().oneshot(req).await.unwrap();
    if resp.status() != StatusCode::OK {
        return resp.status().as_str().to_owned();
    }
    let body = resp.into_body().collect_bytes().await.unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn matching_rules() {
    assert!(CASES.len() >= 40);
    let router = table_router();
    let mut failures = Vec::new();
    for &(method, target, expected) in CASES {
        let got = answer(&router, method, target).await;
        if got != expected {
            failures.push(format!(
                "{method} {target}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn lookup_agrees_with_the_service() {
    let router = table_router();
    for &(method, target, expected) in CASES {
        let path = target.split('?').next().unwrap();
        let got = match router.lookup(&method.parse().unwrap(), path) {
            Lookup::Found(found) => {
                let mut text = found.route().to_owned();
                for (name, value) in found.params().iter() {
                    text.push_str(&format!(" {name}={value}"));
                }
                text
            }
            Lookup::MethodNotAllowed(_) => "405".to_owned(),
            Lookup::NotFound => "404".to_owned(),
        };
        assert_eq!(got, expected, "{method} {target}");
    }
}

#[tokio::test]
async fn allow_lists_the_path_s_methods() {
    let router = table_router();
    let req = Request::put("/api/widgets/42").body(()).unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = resp.headers()["allow"].to_str().unwrap().to_owned();
    let mut methods: Vec<&str> = allow.split(", ").collect();
    methods.sort_unstable();
    assert_eq!(methods, ["GET", "HEAD", "POST"], "Allow: {allow}");
    match router.lookup(&Method::PUT, "/api/widgets/42") {
        Lookup::MethodNotAllowed(allowed) => assert!(allowed.contains(&Method::POST)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn registering_again_replaces() {
    let mut router = Router::<()>::new();
    router
        .register(Method::GET, "/a/{id}", |_req: Request<()>| async {
            Response::new(String::from("first"))
        })
        .unwrap();
    assert_eq!(answer(&router, "GET", "/a/1").await, "first");
    // Same route: other variable name, extra slashes.
    router
        .register(Method::GET, "//a/{key}/", |req: Request<()>| async move {
            Response::new(format!("second {}", param::<String>(&req, "key").unwrap()))
        })
        .unwrap();
    assert_eq!(answer(&router, "GET", "/a/1").await, "second 1");
    // Another method is another handler, not a replacement.
    router
        .register(Method::POST, "/a/{id}", |_req: Request<()>| async {
            Response::new(String::from("post"))
        })
        .unwrap();
    assert_eq!(answer(&router, "GET", "/a/1").await, "second 1");
    assert_eq!(answer(&router, "POST", "/a/1").await, "post");
    // A clone keeps the routes it had.
    let before = router.clone();
    router
        .register(Method::GET, "/a/{id}", |_req: Request<()>| async {
            Response::new(String::from("third"))
        })
        .unwrap();
    assert_eq!(answer(&router, "GET", "/a/1").await, "third");
    assert_eq!(answer(&before, "GET", "/a/1").await, "second 1");
}

#[test]
fn bad_patterns_are_errors() {
    let mut router = Router::<()>::new();
    for bad in ["/a/**/b", "/{*rest}/b", "/{}", "/{id:[0-9}", "/{id}/{id}"] {
        let err = router
            .register(Method::GET, bad, describe::<()>)
            .map(|_| ())
            .expect_err(bad);
        assert!(err.to_string().contains(bad), "{bad}: {err}");
    }
    // The router still works after the rejected ones.
    router.register(Method::GET, "/ok", describe::<()>).unwrap();
    assert!(matches!(
        router.lookup(&Method::GET, "/ok"),
        Lookup::Found(_)
    ));
}

#[tokio::test]
async fn middleware_runs_only_on_matched_routes() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut router = Router::<()>::new();
    router
        .register(Method::GET, "/before/{id}", describe::<()>)
        .unwrap();
    let counted = calls.clone();
    router.middleware(tower::layer::layer_fn(move |inner: Route<()>| {
        let calls = counted.clone();
        tower::service_fn(move |req: Request<()>| {
            calls.fetch_add(1, Ordering::SeqCst);
            // It runs after matching: the route is known.
            let seen = route(&req).unwrap_or("none").to_owned();
            let inner = inner.clone();
            async move {
                let mut resp = inner.oneshot(req).await?;
                resp.headers_mut().insert("x-route", seen.parse().unwrap());
                Ok::<_, Infallible>(resp)
            }
        })
    }));
    router
        .register(Method::GET, "/after/{id}", describe::<()>)
        .unwrap();

    for (target, expected) in [("/before/1", "/before/{id}"), ("/after/2", "/after/{id}")] {
        let resp = router
            .clone()
            .oneshot(Request::get(target).body(()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.headers()["x-route"], expected, "{target}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    for (method, target, status) in [("GET", "/missing", 404), ("POST", "/after/2", 405)] {
        let req = Request::builder()
            .method(method)
            .uri(target)
            .body(())
            .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), status, "{method} {target}");
        assert!(resp.headers().get("x-route").is_none(), "{method} {target}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2, "not run for 404 / 405");
}

/// A handler service that fails.
#[derive(Clone)]
struct Failing;

impl Service<Request<httpstack::Body>> for Failing {
    type Response = Response<Body>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Response<Body>, std::io::Error>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<httpstack::Body>) -> Self::Future {
        std::future::ready(Err(std::io::Error::other("handler failed")))
    }
}

/// The router served by httpstack's server, called by httpstack's client and raw TCP.
#[tokio::test]
async fn over_real_sockets() {
    let mut router = Router::new();
    router
        .register(
            Method::GET,
            "/users/{id:[0-9]+}",
            handler_fn(|req| async move {
                Response::new(format!(
                    "user {}",
                    param::<String>(&req, "id").unwrap_or_else(|_| "?".into())
                ))
            }),
        )
        .unwrap()
        .register(Method::GET, "/a/b", describe::<httpstack::Body>)
        .unwrap()
        .register(Method::POST, "/a/b", describe::<httpstack::Body>)
        .unwrap()
        .route("/fail", Failing)
        .unwrap()
        .not_found(|req: Request<httpstack::Body>| async move {
            Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body(format!("no route for {}", req.uri().path()))
                .unwrap()
        })
        .method_not_allowed(|req: Request<httpstack::Body>| async move {
            Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .body(format!("{} not allowed", req.method()))
                .unwrap()
        });
    let server = serve("127.0.0.1:0", router).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let get = |path: &str| {
        httpstack::get(format!("{base}{path}"))
            .status_exception(false)
            .retry(false)
    };

    let resp = within("GET /users/7", get("/users/7")).await.unwrap();
    assert_eq!(
        (resp.status(), resp.text()),
        (StatusCode::OK, "user 7".to_owned())
    );

    let resp = within("GET /users/bob", get("/users/bob")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.text(), "no route for /users/bob");

    let resp = within(
        "DELETE /a/b",
        httpstack::delete(format!("{base}/a/b"))
            .status_exception(false)
            .retry(false),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.text(), "DELETE not allowed");
    let allow = resp.headers()["allow"].to_str().unwrap();
    for method in ["GET", "HEAD", "POST"] {
        assert!(allow.contains(method), "Allow: {allow}");
    }

    let resp = within("GET /fail", get("/fail")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);

    // Doubled and trailing slashes, sent as is on the wire.
    for target in ["/a/b/", "//a//b", "/a//b/"] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let resp = within(target, exchange(server.local_addr(), request.as_bytes())).await;
        assert_eq!(
            (resp.status, resp.text()),
            (200, "/a/b".to_owned()),
            "{target}"
        );
    }

    // HEAD is answered by the GET handler, without a body.
    let mut conn = connect(server.local_addr()).await;
    write(
        &mut conn,
        b"HEAD /users/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let head = within("HEAD /users/7", read_head(&mut conn)).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let rest = within("the end of the HEAD response", read_until_closed(&mut conn)).await;
    assert!(rest.is_empty(), "a body after a HEAD response: {rest:?}");
    server.close().await;
}

/// Found by the `router` fuzz target: matchit panics at 26 parameters in one route.
/// Too many variable segments — written out, or a `**` standing for the segments of a
/// deep route — is a typed error from `register`, and the router keeps what it had.
#[tokio::test]
async fn too_many_variable_segments_is_an_error_not_a_panic() {
    let handler = |_req: Request<httpstack::Body>| async { Response::new(Body::from("ok")) };
    let mut router = Router::new();
    let wide = "/*".repeat(26);
    let err = router.register(Method::GET, &wide, handler).unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(router
        .register(Method::GET, &"/*".repeat(25), handler)
        .is_ok());

    let mut router = Router::new();
    router
        .register(Method::GET, "/files/**", handler)
        .expect("register");
    let deep = "/d".repeat(30);
    let err = router.register(Method::GET, &deep, handler).unwrap_err();
    assert!(
        err.is_invalid_input() && err.to_string().contains("variable segments"),
        "{err}"
    );
    // The router still serves what it had.
    let res = router
        .clone()
        .oneshot(Request::get("/files/a/b").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
