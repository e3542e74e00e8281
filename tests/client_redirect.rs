//! The redirect layer around a bare hyper-util client, against httpstack's own server on
//! 127.0.0.1 and against Python httpbin: each status's method and body rules, the limit,
//! `redirect = false`, cross-origin credential stripping and its marker, Referer,
//! `forward_headers`, streamed bodies, errors on a hop, and the parent chain.

mod support;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, LOCATION, PROXY_AUTHORIZATION, REFERER,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use httpstack::middleware::cross_origin::CrossOriginRedirect;
use httpstack::middleware::redirect::{
    RedirectChain, RedirectConfig, RedirectLayer, RedirectMethod,
};
use httpstack::server::{handler_fn, serve, Server};
use httpstack::{Body, Error, ErrorKind};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use support::within;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

/// One request as a [`Site`] saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    target: String,
    headers: HeaderMap,
    body: Bytes,
}

/// An httpstack server that records every request. Routes:
/// - `/chain/{code}/{n}`: for n > 0, `code` to the relative Location `{n-1}`; for 0, 200
/// - `/to?code=C&url=U`: `C` to `U`
/// - `/bare/{code}`: `code` without a Location
/// - anything else: 200 `ok`
struct Site {
    server: Server,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Site {
    async fn start() -> Site {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let server = within(
            "serve",
            serve(
                "127.0.0.1:0",
                handler_fn(move |req| handle(req, log.clone())),
            ),
        )
        .await
        .expect("serve");
        Site { server, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.server.port())
    }

    /// The requests seen since the last call.
    fn take_seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

async fn handle(req: Request<httpstack::Body>, seen: Arc<Mutex<Vec<Seen>>>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    seen.lock().unwrap().push(Seen {
        method: parts.method.clone(),
        target,
        headers: parts.headers.clone(),
        body,
    });
    let segments: Vec<&str> = parts.uri.path().split('/').skip(1).collect();
    match segments.as_slice() {
        ["chain", code, n] => match n.parse::<u32>().unwrap() {
            0 => Response::new(Body::from("done")),
            n => redirect(code.parse().unwrap(), &(n - 1).to_string()),
        },
        ["to"] => {
            let query = parts.uri.query().unwrap_or("");
            let param = |name: &str| {
                url::form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
                    .unwrap()
            };
            redirect(param("code").parse().unwrap(), &param("url"))
        }
        ["bare", code] => Response::builder()
            .status(code.parse::<u16>().unwrap())
            .body(Body::from("no location"))
            .unwrap(),
        _ => Response::new(Body::from("ok")),
    }
}

/// A redirect with a small body, as servers send (the layer reads and drops it).
fn redirect(code: u16, location: &str) -> Response<Body> {
    Response::builder()
        .status(code)
        .header(LOCATION, location)
        .body(Body::from("redirecting"))
        .unwrap()
}

/// `/to` on `base`, redirecting with `code` to `url`.
fn to(base: &str, code: u16, url: &str) -> String {
    let url: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    format!("{base}/to?code={code}&url={url}")
}

type Hyper = Client<HttpConnector, Body>;

fn hyper() -> Hyper {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends `req` through `svc` and reads the whole response body.
async fn send<S>(svc: &S, req: Request<Body>) -> Result<Response<Bytes>, Error>
where
    S: Service<Request<Body>, Response = Response<Incoming>, Error = Error> + Clone,
{
    let resp = within("response", svc.clone().oneshot(req)).await?;
    let (parts, body) = resp.into_parts();
    let body = within("body", body.collect()).await.unwrap().to_bytes();
    Ok(Response::from_parts(parts, body))
}

fn header<'a>(seen: &'a Seen, name: &http::HeaderName) -> Option<&'a str> {
    seen.headers.get(name).map(|v| v.to_str().unwrap())
}

/// A request with a per-request config.
fn with_config(mut req: Request<Body>, config: RedirectConfig) -> Request<Body> {
    req.extensions_mut().insert(config);
    req
}

#[tokio::test]
async fn each_status_rewrites_a_post_as_http_jl_does() {
    let site = Site::start().await;
    let client = RedirectLayer::new().layer(hyper());
    // (status, method of the hops, body and Content-Type sent again)
    for (code, method, body_kept) in [
        (301, Method::GET, false),
        (302, Method::GET, false),
        (303, Method::GET, false),
        (307, Method::POST, true),
        (308, Method::POST, true),
    ] {
        let first = site.url(&format!("/chain/{code}/2"));
        let req = Request::post(&first)
            .header(CONTENT_TYPE, "text/plain")
            .header("x-custom", "kept")
            .body(Body::from("payload"))
            .unwrap();
        let resp = send(&client, req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{code}");
        assert_eq!(resp.body(), "done", "{code}");

        let seen = site.take_seen();
        let targets: Vec<&str> = seen.iter().map(|s| s.target.as_str()).collect();
        let chain_paths = [0, 1, 2].map(|i| format!("/chain/{code}/{}", 2 - i));
        assert_eq!(targets, chain_paths, "{code}");
        assert_eq!(seen[0].method, Method::POST, "{code}");
        assert_eq!(seen[0].body, "payload", "{code}");
        for (i, hop) in seen.iter().enumerate().skip(1) {
            assert_eq!(hop.method, method, "{code} hop {i}");
            let body: &[u8] = if body_kept { b"payload" } else { b"" };
            assert_eq!(hop.body, body, "{code} hop {i}");
            assert_eq!(
                header(hop, &CONTENT_TYPE).is_some(),
                body_kept,
                "{code} hop {i}"
            );
            assert_eq!(
                header(hop, &http::HeaderName::from_static("x-custom")),
                Some("kept")
            );
            let previous = site.url(&seen[i - 1].target);
            assert_eq!(
                header(hop, &REFERER),
                Some(previous.as_str()),
                "{code} hop {i}"
            );
        }

        // The parent chain: both redirects, oldest first, and the final URL.
        let chain = RedirectChain::of(&resp).expect("a chain on a redirected response");
        assert_eq!(chain.redirects(), 2, "{code}");
        assert_eq!(chain.url().to_string(), site.url(&chain_paths[2]), "{code}");
        assert_eq!(chain.method(), method, "{code}");
        assert_eq!(chain.first_url().to_string(), first, "{code}");
        let hops: Vec<(u16, String, Method, String)> = chain
            .hops()
            .iter()
            .map(|h| {
                let location = h.headers()[LOCATION].to_str().unwrap().to_owned();
                (
                    h.status().as_u16(),
                    h.url().to_string(),
                    h.method().clone(),
                    location,
                )
            })
            .collect();
        assert_eq!(
            hops,
            [
                (code, first.clone(), Method::POST, "1".to_owned()),
                (
                    code,
                    site.url(&chain_paths[1]),
                    method.clone(),
                    "0".to_owned()
                ),
            ],
            "{code}"
        );
        assert_eq!(
            chain.parent().unwrap().url().to_string(),
            site.url(&chain_paths[1])
        );
    }
}

#[tokio::test]
async fn redirect_method_picks_the_method_of_301_and_302_hops() {
    let site = Site::start().await;
    let client = RedirectLayer::new().layer(hyper());
    // (status, method, rule) → (hop method, hop body)
    for (code, method, rule, hop_method, hop_body) in [
        (
            302,
            Method::POST,
            RedirectMethod::Same,
            Method::POST,
            "payload",
        ),
        (
            301,
            Method::PUT,
            RedirectMethod::Same,
            Method::PUT,
            "payload",
        ),
        (
            301,
            Method::POST,
            RedirectMethod::Method(Method::PUT),
            Method::PUT,
            "payload",
        ),
        (
            302,
            Method::POST,
            RedirectMethod::Method(Method::GET),
            Method::GET,
            "",
        ),
        (
            302,
            Method::DELETE,
            RedirectMethod::Auto,
            Method::DELETE,
            "payload",
        ),
        (
            302,
            Method::from_bytes(b"QUERY").unwrap(),
            RedirectMethod::Auto,
            Method::from_bytes(b"QUERY").unwrap(),
            "payload",
        ),
        (303, Method::PUT, RedirectMethod::Auto, Method::GET, ""),
        (302, Method::HEAD, RedirectMethod::Auto, Method::HEAD, ""),
        (303, Method::POST, RedirectMethod::Same, Method::GET, ""),
        (
            307,
            Method::PATCH,
            RedirectMethod::Method(Method::GET),
            Method::PATCH,
            "payload",
        ),
    ] {
        let case = format!("{code} {method} {rule:?}");
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from("payload")
        };
        let req = Request::builder()
            .method(method.clone())
            .uri(site.url(&format!("/chain/{code}/1")))
            .body(body)
            .unwrap();
        let config = RedirectConfig {
            redirect_method: rule,
            ..RedirectConfig::default()
        };
        let resp = send(&client, with_config(req, config)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{case}");
        let seen = site.take_seen();
        assert_eq!(seen.len(), 2, "{case}");
        assert_eq!(seen[1].method, hop_method, "{case}");
        assert_eq!(seen[1].body, hop_body, "{case}");
    }
}

#[tokio::test]
async fn the_limit_allows_exactly_that_many_redirects() {
    let site = Site::start().await;
    let client = RedirectLayer::new().layer(hyper());
    // (path, per-request limit, outcome: Ok(status) or Err(limit), requests sent)
    for (path, limit, outcome, requests) in [
        ("/chain/302/10", None, Err(3), 4),
        ("/chain/302/3", None, Ok(200), 4),
        ("/chain/307/10", Some(1), Err(1), 2),
        ("/chain/302/1", Some(1), Ok(200), 2),
        ("/chain/302/1", Some(0), Ok(302), 1),
    ] {
        let case = format!("{path} limit {limit:?}");
        let mut req = Request::get(site.url(path)).body(Body::empty()).unwrap();
        if let Some(limit) = limit {
            req = with_config(
                req,
                RedirectConfig {
                    redirect_limit: limit,
                    ..RedirectConfig::default()
                },
            );
        }
        match (send(&client, req).await, outcome) {
            (Ok(resp), Ok(status)) => assert_eq!(resp.status(), status, "{case}"),
            (Err(err), Err(limit)) => {
                assert_eq!(err.kind(), &ErrorKind::TooManyRedirects(limit), "{case}");
                assert!(err.is_too_many_redirects());
                // The error names the request the caller made.
                assert_eq!(err.method(), Some(&Method::GET), "{case}");
                assert_eq!(err.url(), Some(site.url(path).as_str()), "{case}");
                let message = err.to_string();
                assert!(
                    message.starts_with(&format!("too many redirects (limit {limit})")),
                    "{message}"
                );
            }
            (got, want) => panic!("{case}: got {got:?}, want {want:?}"),
        }
        assert_eq!(site.take_seen().len(), requests, "{case}");
    }
}

#[tokio::test]
async fn redirect_false_returns_the_3xx() {
    let site = Site::start().await;
    let off = RedirectLayer::new().redirect(false).layer(hyper());
    let resp = send(
        &off,
        Request::get(site.url("/chain/301/2"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(resp.headers()[LOCATION], "1");
    assert_eq!(resp.body(), "redirecting");
    assert!(RedirectChain::of(&resp).is_none());
    assert_eq!(site.take_seen().len(), 1);

    // A request turns it back on, and the other way round.
    let req = with_config(
        Request::get(site.url("/chain/301/2"))
            .body(Body::empty())
            .unwrap(),
        RedirectConfig::default(),
    );
    assert_eq!(send(&off, req).await.unwrap().status(), StatusCode::OK);
    assert_eq!(site.take_seen().len(), 3);
    let on = RedirectLayer::new().layer(hyper());
    let req = with_config(
        Request::get(site.url("/chain/301/2"))
            .body(Body::empty())
            .unwrap(),
        RedirectConfig {
            redirect: false,
            ..RedirectConfig::default()
        },
    );
    assert_eq!(
        send(&on, req).await.unwrap().status(),
        StatusCode::MOVED_PERMANENTLY
    );
    assert_eq!(site.take_seen().len(), 1);
}

#[tokio::test]
async fn a_3xx_without_a_usable_location_is_returned() {
    let site = Site::start().await;
    let client = RedirectLayer::new().layer(hyper());
    for (path, status) in [
        ("/bare/302".to_owned(), 302),
        ("/bare/307".to_owned(), 307),
        (to("", 301, "ftp://example.test/file"), 301),
        (to("", 302, "http://"), 302),
        // Not a redirect HTTP.jl follows.
        (to("", 300, "/elsewhere"), 300),
        (to("", 304, "/elsewhere"), 304),
    ] {
        let resp = send(
            &client,
            Request::get(site.url(&path)).body(Body::empty()).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{path}");
        assert!(RedirectChain::of(&resp).is_none(), "{path}");
        assert_eq!(site.take_seen().len(), 1, "{path}");
    }
}

/// A tag a test puts on the first request, to see that every hop carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tag(u32);

/// What the layer below the redirect layer saw of one hop.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Below {
    url: String,
    cross_origin: bool,
    tag: Option<Tag>,
}

fn credentials(req: http::request::Builder) -> http::request::Builder {
    req.header(AUTHORIZATION, "Bearer secret")
        .header(COOKIE, "session=1")
        .header(PROXY_AUTHORIZATION, "Basic cHJveHk6cHc=")
        .header("x-custom", "kept")
}

#[tokio::test]
async fn credentials_stay_on_their_origin() {
    let a = Site::start().await;
    let b = Site::start().await;
    let below = Arc::new(Mutex::new(Vec::new()));
    let record = below.clone();
    let client = ServiceBuilder::new()
        .layer(RedirectLayer::new())
        .map_request(move |req: Request<Body>| {
            record.lock().unwrap().push(Below {
                url: req.uri().to_string(),
                cross_origin: CrossOriginRedirect::is_marked(&req),
                tag: req.extensions().get::<Tag>().copied(),
            });
            req
        })
        .service(hyper());
    let has_credentials = |seen: &Seen| {
        [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION].map(|name| seen.headers.contains_key(name))
    };

    // Same origin: everything goes along, no marker.
    let first = to(&a.url(""), 302, "/landing");
    let mut req = credentials(Request::get(&first))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(Tag(7));
    send(&client, req).await.unwrap();
    let seen = a.take_seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(has_credentials(&seen[1]), [true; 3]);
    assert_eq!(
        header(&seen[1], &http::HeaderName::from_static("x-custom")),
        Some("kept")
    );
    let marks = std::mem::take(&mut *below.lock().unwrap());
    assert_eq!(
        marks
            .iter()
            .map(|b| (b.cross_origin, b.tag))
            .collect::<Vec<_>>(),
        [(false, Some(Tag(7))), (false, Some(Tag(7)))]
    );

    // A → B (another port) → back to A: stripped from B on, and they stay off.
    let back = a.url("/back");
    let via_b = to(&b.url(""), 307, &back);
    let first = to(&a.url(""), 302, &via_b);
    let mut req = credentials(Request::get(&first))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(Tag(9));
    let resp = send(&client, req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(RedirectChain::of(&resp).unwrap().url().to_string(), back);
    let seen_a = a.take_seen();
    let seen_b = b.take_seen();
    assert_eq!((seen_a.len(), seen_b.len()), (2, 1));
    assert_eq!(has_credentials(&seen_a[0]), [true; 3]);
    assert_eq!(has_credentials(&seen_b[0]), [false; 3]);
    assert_eq!(has_credentials(&seen_a[1]), [false; 3]);
    // Host follows the new authority; other headers go along.
    for (hop, site) in [(&seen_b[0], &b), (&seen_a[1], &a)] {
        assert_eq!(
            header(hop, &http::HeaderName::from_static("x-custom")),
            Some("kept")
        );
        let host = format!("127.0.0.1:{}", site.server.port());
        assert_eq!(header(hop, &HOST), Some(host.as_str()));
    }
    assert_eq!(header(&seen_b[0], &REFERER), Some(first.as_str()));
    assert_eq!(header(&seen_a[1], &REFERER), Some(via_b.as_str()));
    let marks = std::mem::take(&mut *below.lock().unwrap());
    assert_eq!(
        marks,
        [
            Below {
                url: first,
                cross_origin: false,
                tag: Some(Tag(9))
            },
            Below {
                url: via_b,
                cross_origin: true,
                tag: Some(Tag(9))
            },
            Below {
                url: back,
                cross_origin: true,
                tag: Some(Tag(9))
            },
        ]
    );
}

#[tokio::test]
async fn forward_headers_false_sends_none_of_the_request_headers() {
    let site = Site::start().await;
    let client = RedirectLayer::new().forward_headers(false).layer(hyper());
    let first = site.url("/chain/307/1");
    let req = credentials(Request::post(&first))
        .header(CONTENT_TYPE, "text/plain")
        .body(Body::from("payload"))
        .unwrap();
    send(&client, req).await.unwrap();
    let seen = site.take_seen();
    assert_eq!(seen.len(), 2);
    let mut names: Vec<&str> = seen[1].headers.keys().map(|n| n.as_str()).collect();
    names.sort_unstable();
    // Only what the client below adds (Host, Content-Length of the resent body), and the
    // Referer the redirect layer sets.
    assert_eq!(names, ["content-length", "host", "referer"]);
    assert_eq!(seen[1].body, "payload");
    assert_eq!(header(&seen[1], &REFERER), Some(first.as_str()));
}

#[tokio::test]
async fn a_streamed_body_is_not_resent() {
    let site = Site::start().await;
    let client = RedirectLayer::new().layer(hyper());
    // 307/308 would need the body again: the 3xx comes back.
    for code in [307, 308] {
        let req = Request::post(site.url(&format!("/chain/{code}/1")))
            .body(Body::from_chunks(["pay", "load"]))
            .unwrap();
        let resp = send(&client, req).await.unwrap();
        assert_eq!(resp.status().as_u16(), code);
        assert_eq!(resp.headers()[LOCATION], "0");
        let seen = site.take_seen();
        assert_eq!(seen.len(), 1, "{code}");
        assert_eq!(seen[0].body, "payload", "{code}");
    }
    // 303 drops the body anyway, so the redirect is followed.
    let req = Request::post(site.url("/chain/303/1"))
        .body(Body::from_chunks(["pay", "load"]))
        .unwrap();
    assert_eq!(send(&client, req).await.unwrap().status(), StatusCode::OK);
    let seen = site.take_seen();
    assert_eq!(
        (seen[1].method.clone(), seen[1].body.len()),
        (Method::GET, 0)
    );
}

#[tokio::test]
async fn a_failing_hop_is_named_in_the_error() {
    let site = Site::start().await;
    let client = RedirectLayer::new().layer(hyper());
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!(
        "http://127.0.0.1:{}/gone",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let err = send(
        &client,
        Request::get(to(&site.url(""), 302, &gone))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert!(!err.is_too_many_redirects(), "{err}");
    assert_eq!(err.url(), Some(gone.as_str()), "{err}");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

macro_rules! httpbin {
    () => {
        match support::httpbin() {
            Some(peer) => peer,
            None => return,
        }
    };
}

#[tokio::test]
async fn httpbin_redirects_are_followed_to_the_limit() {
    let bin = httpbin!();
    let client = RedirectLayer::new().layer(hyper());
    for (path, redirects) in [
        ("/redirect/3", 3),
        ("/absolute-redirect/3", 3),
        ("/relative-redirect/2", 2),
        ("/redirect/1", 1),
    ] {
        let resp = send(
            &client,
            Request::get(bin.url(path)).body(Body::empty()).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let chain = RedirectChain::of(&resp).unwrap();
        assert_eq!(chain.redirects(), redirects, "{path}");
        assert_eq!(chain.url().to_string(), bin.url("/get"), "{path}");
        assert!(
            chain.hops().iter().all(|h| h.status() == StatusCode::FOUND),
            "{path}"
        );
        let echo: Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(echo["url"], bin.url("/get"), "{path}");
    }
    let err = send(
        &client,
        Request::get(bin.url("/redirect/5"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooManyRedirects(3), "{err}");
    assert_eq!(err.url(), Some(bin.url("/redirect/5").as_str()));
}

#[tokio::test]
async fn httpbin_redirect_to_keeps_or_drops_the_post_body() {
    let bin = httpbin!();
    let client = RedirectLayer::new().layer(hyper());
    let anything = bin.url("/anything");
    // (status_code, method httpbin sees, body it sees)
    for (code, method, data) in [
        (307, "POST", "payload"),
        (308, "POST", "payload"),
        (302, "GET", ""),
        (303, "GET", ""),
    ] {
        let target = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("url", &anything)
            .append_pair("status_code", &code.to_string())
            .finish();
        let req = Request::post(bin.url(&format!("/redirect-to?{target}")))
            .header(CONTENT_TYPE, "text/plain")
            .body(Body::from("payload"))
            .unwrap();
        let resp = send(&client, req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{code}");
        let echo: Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(echo["method"], method, "{code}");
        assert_eq!(echo["data"], data, "{code}");
        assert_eq!(
            echo["headers"].get("Content-Type").is_some(),
            !data.is_empty(),
            "{code}"
        );
        assert_eq!(
            RedirectChain::of(&resp)
                .unwrap()
                .parent()
                .unwrap()
                .status()
                .as_u16(),
            code
        );
    }
}
