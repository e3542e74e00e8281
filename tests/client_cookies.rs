//! The client cookie layer around a bare hyper-util client, against a real httpstack server
//! on 127.0.0.1 that sets cookies and echoes the `Cookie` header back, and against Python
//! httpbin's `/cookies` endpoints.
//!
//! Redirects are followed by hand here: each hop is one call through the layer, which is
//! what the redirect layer above it does.

mod support;

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use httpstack::middleware::cookies::{cookies, CookieConfig, CookieJar, CookieLayer, Url};
use httpstack::middleware::cross_origin::CrossOriginRedirect;
use httpstack::middleware::status::StatusLayer;
use httpstack::server::{handler_fn, serve, Server};
use httpstack::Body;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::within;
use tower::{Service, ServiceBuilder, ServiceExt};

type HyperClient = Client<HttpConnector, Empty<Bytes>>;

fn hyper_client() -> HyperClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// The test server. Every answer's body is the request's `Cookie` header (or nothing).
///
/// - `/set?a=1&b=2`: `Set-Cookie: a=1; Path=/` for each pair;
/// - `/redirect?to=/x`: 302 to `/x`, setting `hop=1`;
/// - `/missing`: 404, setting `err=1`;
/// - anything else: only the echo.
async fn start_server() -> Server {
    let handler = handler_fn(|req: Request<httpstack::Body>| async move {
        let echo = req
            .headers()
            .get("cookie")
            .map(|v| v.to_str().unwrap_or("<not text>").to_owned())
            .unwrap_or_default();
        let query = req.uri().query().unwrap_or("").to_owned();
        let mut resp = Response::builder();
        match req.uri().path() {
            "/set" => {
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    resp = resp.header("set-cookie", format!("{pair}; Path=/"));
                }
            }
            "/redirect" => {
                let to = query.strip_prefix("to=").unwrap_or("/");
                resp = resp
                    .status(StatusCode::FOUND)
                    .header("location", to)
                    .header("set-cookie", "hop=1; Path=/");
            }
            "/missing" => {
                resp = resp
                    .status(StatusCode::NOT_FOUND)
                    .header("set-cookie", "err=1; Path=/");
            }
            _ => {}
        }
        resp.body(Body::from(echo)).unwrap()
    });
    within("serve", serve("127.0.0.1:0", handler))
        .await
        .expect("serve")
}

fn url(server: &Server, path: &str) -> String {
    format!("http://127.0.0.1:{}{}", server.port(), path)
}

fn get(url: &str) -> Request<Empty<Bytes>> {
    Request::get(url).body(Empty::new()).unwrap()
}

/// Sends `req` through `svc`; the status and the body as text.
async fn send<S>(svc: &S, req: Request<Empty<Bytes>>) -> (StatusCode, String)
where
    S: Service<Request<Empty<Bytes>>, Response = Response<Incoming>> + Clone,
    S::Error: std::fmt::Debug,
{
    let what = format!("GET {}", req.uri());
    let resp = within(&what, svc.clone().oneshot(req))
        .await
        .expect("request");
    let status = resp.status();
    let body = within("body", resp.into_body().collect())
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A `Cookie` header's pairs, sorted (the jar's order among equal paths is not defined).
fn pairs(header: &str) -> Vec<String> {
    let mut pairs: Vec<String> = header
        .split("; ")
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn set_cookies_are_stored_and_sent_back() {
    let server = start_server().await;
    let jar = CookieJar::new();
    let client = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(hyper_client());

    let (_, echoed) = send(&client, get(&url(&server, "/set?a=1&b=two"))).await;
    assert_eq!(echoed, "");
    let (_, echoed) = send(&client, get(&url(&server, "/echo"))).await;
    assert_eq!(pairs(&echoed), ["a=1", "b=two"]);

    // A header the caller set stays, with the jar's cookies after it.
    let mut req = get(&url(&server, "/echo"));
    req.headers_mut()
        .insert("cookie", "mine=1".parse().unwrap());
    let (_, echoed) = send(&client, req).await;
    assert!(echoed.starts_with("mine=1; "), "{echoed}");
    assert_eq!(pairs(&echoed), ["a=1", "b=two", "mine=1"]);

    // Another host (localhost is not 127.0.0.1 to a jar) gets none of them.
    let other = format!("http://localhost:{}/echo", server.port());
    let (_, echoed) = send(&client, get(&other)).await;
    assert_eq!(echoed, "");
    within("close", server.close()).await;
}

#[tokio::test]
async fn cookies_set_during_a_redirect_are_sent_on_the_next_hop() {
    let server = start_server().await;
    let jar = CookieJar::new();
    let client = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(hyper_client());

    // Two redirects, each setting `hop=1`; every answer echoes the Cookie header it got.
    let mut next = url(&server, "/redirect?to=/redirect%3Fto=/final");
    let mut echoes = Vec::new();
    loop {
        let resp = within("hop", client.clone().oneshot(get(&next)))
            .await
            .expect("hop");
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().replace("%3F", "?"));
        if location.is_some() {
            assert_eq!(cookies(&resp)[0].name, "hop");
        }
        let body = within("body", resp.into_body().collect()).await.unwrap();
        echoes.push(String::from_utf8_lossy(&body.to_bytes()).into_owned());
        match location {
            Some(location) => next = url(&server, &location),
            None => break,
        }
    }
    assert_eq!(echoes, ["", "hop=1", "hop=1"]);
    within("close", server.close()).await;
}

#[tokio::test]
async fn explicit_cookies_per_request_and_per_layer() {
    let server = start_server().await;
    let jar = CookieJar::new();
    let client = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(hyper_client());
    send(&client, get(&url(&server, "/set?a=1&b=2"))).await;

    // Per request: explicit pairs join the jar's, replacing a jar cookie of the same name.
    let mut req = get(&url(&server, "/echo"));
    req.extensions_mut()
        .insert(CookieConfig::explicit([("x", "9"), ("a", "override")]));
    let (_, echoed) = send(&client, req).await;
    assert_eq!(pairs(&echoed), ["a=override", "b=2", "x=9"]);

    // An explicit value with a space is quoted; an invalid name is left out.
    let mut req = get(&url(&server, "/echo"));
    req.extensions_mut()
        .insert(CookieConfig::explicit([("sp", "a b"), ("bad name", "x")]));
    let (_, echoed) = send(&client, req).await;
    assert_eq!(pairs(&echoed), ["a=1", "b=2", "sp=\"a b\""]);

    // Per layer: the same, for every request without its own config.
    let explicit = ServiceBuilder::new()
        .layer(
            CookieLayer::new(jar.clone())
                .cookies(BTreeMap::from([("layer".to_owned(), "1".to_owned())])),
        )
        .service(hyper_client());
    let (_, echoed) = send(&explicit, get(&url(&server, "/echo"))).await;
    assert_eq!(pairs(&echoed), ["a=1", "b=2", "layer=1"]);
    within("close", server.close()).await;
}

#[tokio::test]
async fn cookies_false_leaves_the_request_and_the_jar_alone() {
    let server = start_server().await;
    let jar = CookieJar::new();
    jar.set_cookie(
        &Url::parse(&url(&server, "/")).unwrap(),
        &httpstack::middleware::cookies::Cookie::new("pre", "1").with_path("/"),
    );

    let off = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()).cookies(false))
        .service(hyper_client());
    let (_, echoed) = send(&off, get(&url(&server, "/set?new=1"))).await;
    assert_eq!(echoed, "");
    assert_eq!(jar.all().len(), 1, "the response's cookie was not stored");

    // A request can turn cookies back on over a `false` layer...
    let mut req = get(&url(&server, "/echo"));
    req.extensions_mut().insert(CookieConfig::Enabled(true));
    let (_, echoed) = send(&off, req).await;
    assert_eq!(echoed, "pre=1");

    // ...or off under an enabled one; an empty explicit map is `false`, as in HTTP.jl.
    let on = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(hyper_client());
    for config in [
        CookieConfig::Enabled(false),
        CookieConfig::explicit(Vec::<(String, String)>::new()),
    ] {
        let mut req = get(&url(&server, "/set?other=1"));
        req.extensions_mut().insert(config.clone());
        let (_, echoed) = send(&on, req).await;
        assert_eq!(echoed, "", "{config:?}");
    }
    assert_eq!(jar.all().len(), 1);
    within("close", server.close()).await;
}

#[tokio::test]
async fn a_cross_origin_redirect_hop_gets_no_explicit_cookies() {
    let server = start_server().await;
    let jar = CookieJar::new();
    let client = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(hyper_client());
    send(&client, get(&url(&server, "/set?jar=1"))).await;

    let mut req = get(&url(&server, "/echo"));
    req.extensions_mut()
        .insert(CookieConfig::explicit([("token", "secret")]));
    req.extensions_mut().insert(CrossOriginRedirect);
    let (_, echoed) = send(&client, req).await;
    // The jar's cookies still go: they belong to the origin they were set by.
    assert_eq!(echoed, "jar=1");
    within("close", server.close()).await;
}

#[tokio::test]
async fn one_jar_shared_by_two_clients() {
    let server = start_server().await;
    let jar = CookieJar::new();
    let first = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(hyper_client());
    let second = ServiceBuilder::new()
        .layer(CookieLayer::default().cookie_jar(jar.clone()))
        .service(hyper_client());
    let own = ServiceBuilder::new()
        .layer(CookieLayer::default())
        .service(hyper_client());

    send(&first, get(&url(&server, "/set?shared=1"))).await;
    let (_, echoed) = send(&second, get(&url(&server, "/echo"))).await;
    assert_eq!(echoed, "shared=1");
    let (_, echoed) = send(&own, get(&url(&server, "/echo"))).await;
    assert_eq!(echoed, "", "a client with its own jar sees nothing");

    // Concurrent requests through both clients share the jar safely.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let svc = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let target = url(&server, &format!("/set?c{i}={i}"));
        tasks.push(tokio::spawn(async move { send(&svc, get(&target)).await }));
    }
    for task in tasks {
        within("task", task).await.unwrap();
    }
    assert_eq!(jar.all().len(), 9);
    within("close", server.close()).await;
}

#[tokio::test]
async fn cookies_of_a_status_error_are_stored() {
    let server = start_server().await;
    let jar = CookieJar::new();
    let client = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .layer(StatusLayer::new())
        .map_err(httpstack::Error::request)
        .service(hyper_client());

    let err = within(
        "GET",
        client.clone().oneshot(get(&url(&server, "/missing"))),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    let resp = within("GET", client.oneshot(get(&url(&server, "/echo"))))
        .await
        .unwrap();
    let body = within("body", resp.into_body().collect()).await.unwrap();
    assert_eq!(body.to_bytes(), "err=1");
    within("close", server.close()).await;
}

/// httpbin's `/cookies/set?a=1` sets the cookie on a 302 to `/cookies`, which lists the
/// cookies it got; `/cookies/delete?a` deletes it the same way.
#[tokio::test]
async fn httpbin_sets_shows_and_deletes_a_cookie() {
    let Some(bin) = support::httpbin() else {
        return;
    };
    let jar = CookieJar::new();
    let client = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(hyper_client());

    for (start, expected) in [
        (
            "/cookies/set?a=1&b=x%20y",
            serde_json::json!({"a": "1", "b": "x y"}),
        ),
        ("/cookies/delete?a", serde_json::json!({"b": "x y"})),
    ] {
        let resp = within("set", client.clone().oneshot(get(&bin.url(start))))
            .await
            .expect(start);
        assert_eq!(resp.status(), StatusCode::FOUND, "{start}");
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let next = if location.starts_with('/') {
            bin.url(&location)
        } else {
            location
        };
        let (status, body) = send(&client, get(&next)).await;
        assert_eq!(status, StatusCode::OK);
        let seen: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(seen["cookies"], expected, "after {start}");
    }
    assert_eq!(jar.all().len(), 1);
}

#[allow(dead_code)]
fn assert_layer_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<CookieLayer>();
    check::<CookieJar>();
    check::<httpstack::middleware::cookies::Cookies<HyperClient>>();
}
