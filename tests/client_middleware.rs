//! The client's default stack as a whole: retry, redirect and cookies working together
//! through `httpstack::Client`, against httpstack's own servers and Python httpbin.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response};
use httpstack::middleware::cookies::CookieJar;
use httpstack::middleware::redirect::RedirectMethod;
use httpstack::middleware::retry::ExponentialBackOff;
use httpstack::server::{handler_fn, serve, Server};
use httpstack::{Body, Client};
use serde_json::Value;

/// A client whose retries wait 1 ms, so failing cases stay fast.
fn client() -> httpstack::ClientBuilder {
    Client::builder().retry_delays(ExponentialBackOff::fixed(Duration::from_millis(1)))
}

/// What each request looked like, for the assertions.
type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>)>>>;

/// `/fail/N/...`: 503 for the first N requests, then 200; `/to?url=U&status=S`: a
/// redirect; `/set?name=value`: sets a cookie and redirects to `/seen`; anything else:
/// 200. Records the path, Cookie and Authorization of every request.
async fn origin(seen: Seen, failures: Arc<AtomicUsize>) -> Server {
    serve(
        "127.0.0.1:0",
        handler_fn(move |req: Request<httpstack::Body>| {
            let (seen, failures) = (seen.clone(), failures.clone());
            async move {
                let header = |name: &str| {
                    req.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let path = req.uri().path().to_owned();
                let query = req.uri().query().unwrap_or("").to_owned();
                seen.lock().unwrap().push((
                    path.clone(),
                    header("cookie"),
                    header("authorization"),
                ));
                let param = |key: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                        .map(httpstack::uri::unescape)
                };
                let reply = Response::builder();
                if let Some(n) = path.strip_prefix("/fail/") {
                    let n: usize = n.split('/').next().unwrap().parse().unwrap();
                    let status = if failures.fetch_add(1, Ordering::SeqCst) < n {
                        503
                    } else {
                        200
                    };
                    return reply.status(status).body(Body::from("fail")).unwrap();
                }
                match path.as_str() {
                    "/to" => reply
                        .status(param("status").unwrap().parse::<u16>().unwrap())
                        .header("location", param("url").unwrap())
                        .body(Body::empty())
                        .unwrap(),
                    "/set" => reply
                        .status(302)
                        .header("set-cookie", format!("{}; Path=/", query))
                        .header("location", "/seen")
                        .body(Body::empty())
                        .unwrap(),
                    _ => reply.body(Body::from(path)).unwrap(),
                }
            }
        }),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn retries_are_counted_in_the_response_and_the_error() {
    let seen = Seen::default();
    let failures = Arc::new(AtomicUsize::new(0));
    let srv = origin(seen.clone(), failures.clone()).await;
    let c = client().build().unwrap();
    let url = format!("http://127.0.0.1:{}/fail/2", srv.port());
    let resp = support::within("retried", c.get(&url)).await.unwrap();
    assert_eq!((resp.status(), resp.retries()), (http::StatusCode::OK, 2));

    // Always failing: retries + 1 attempts, then a StatusError that says so.
    failures.store(0, Ordering::SeqCst);
    let url = format!("http://127.0.0.1:{}/fail/100", srv.port());
    let err = support::within("exhausted", c.get(&url).retries(2))
        .await
        .unwrap_err();
    assert_eq!(failures.load(Ordering::SeqCst), 3);
    assert_eq!(
        (err.status().map(|s| s.as_u16()), err.retries()),
        (Some(503), Some(2))
    );
    assert!(err.to_string().contains("after 2 retries"), "{err}");

    // POST is not retried unless asked.
    failures.store(0, Ordering::SeqCst);
    let err = support::within("post", c.post(&url).body("x"))
        .await
        .unwrap_err();
    assert_eq!((failures.load(Ordering::SeqCst), err.retries()), (1, None));
    failures.store(0, Ordering::SeqCst);
    let _ = support::within(
        "post",
        c.post(&url).body("x").retry_non_idempotent(true).retries(1),
    )
    .await;
    assert_eq!(failures.load(Ordering::SeqCst), 2);
    srv.close().await;
}

#[tokio::test]
async fn redirects_follow_the_chain_and_report_it() {
    let srv = origin(Seen::default(), Arc::default()).await;
    let base = format!("http://127.0.0.1:{}", srv.port());
    let hop2 = format!("{base}/to?status=307&url=%2Fdone");
    let hop1 = format!("{base}/to?status=303&url={}", httpstack::uri::escape(&hop2));
    let c = client().build().unwrap();
    let resp = support::within("chain", c.post(&hop1).body("payload"))
        .await
        .unwrap();
    assert_eq!(resp.text(), "/done");
    assert_eq!(resp.uri().to_string(), format!("{base}/done"));
    assert_eq!(resp.method(), http::Method::GET, "303 turned POST into GET");
    let chain = resp.redirect_chain().unwrap();
    assert_eq!(chain.redirects(), 2);
    assert_eq!(resp.parent().unwrap().status(), 307);

    // redirect_limit and redirect(false), per request.
    let err = support::within("limit", c.get(&hop1).redirect_limit(1))
        .await
        .unwrap_err();
    assert!(err.is_too_many_redirects(), "{err}");
    let resp = support::within("off", c.get(&hop1).redirect(false))
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    // HTTP.jl: 303 always becomes GET; on 301/302 `Same` keeps the POST (and its body).
    let hop = format!("{base}/to?status=302&url=%2Fdone");
    let resp = support::within("auto", c.post(&hop).body("p"))
        .await
        .unwrap();
    assert_eq!(resp.method(), http::Method::GET);
    let resp = support::within(
        "same",
        c.post(&hop).body("p").redirect_method(RedirectMethod::Same),
    )
    .await
    .unwrap();
    assert_eq!(resp.method(), http::Method::POST);
    srv.close().await;
}

#[tokio::test]
async fn cookies_set_during_a_redirect_are_sent_on_the_next_hop_and_kept() {
    let seen = Seen::default();
    let srv = origin(seen.clone(), Arc::default()).await;
    let jar = CookieJar::new();
    let c = client().cookie_jar(jar.clone()).build().unwrap();
    let url = format!("http://127.0.0.1:{}/set?session=abc", srv.port());
    let resp = support::within("set", c.get(&url)).await.unwrap();
    assert_eq!(resp.text(), "/seen");
    let log = seen.lock().unwrap().clone();
    assert_eq!(log[1], ("/seen".into(), Some("session=abc".into()), None));
    assert_eq!(jar.all().len(), 1);
    assert_eq!(
        c.cookie_jar().all().len(),
        1,
        "the client reads the same jar"
    );

    // cookies(false) per request: none sent; explicit cookies added to the jar's.
    let again = format!("http://127.0.0.1:{}/plain", srv.port());
    support::within("off", c.get(&again).cookies(false))
        .await
        .unwrap();
    support::within("explicit", c.get(&again).cookies([("extra", "1")]))
        .await
        .unwrap();
    let log = seen.lock().unwrap().clone();
    assert_eq!(log[2].1, None);
    assert_eq!(log[3].1.as_deref(), Some("session=abc; extra=1"));

    // Another client has its own jar.
    let other = client().build().unwrap();
    support::within("other", other.get(&again)).await.unwrap();
    assert_eq!(seen.lock().unwrap()[4].1, None);
    srv.close().await;
}

#[tokio::test]
async fn a_cross_origin_hop_strips_credentials_and_explicit_cookies() {
    let seen = Seen::default();
    let srv = origin(seen.clone(), Arc::default()).await;
    // 127.0.0.1 and localhost are different origins on the same server.
    let target = format!("http://localhost:{}/landed", srv.port());
    let start = format!(
        "http://127.0.0.1:{}/to?status=302&url={}",
        srv.port(),
        httpstack::uri::escape(&target)
    );
    let c = client().build().unwrap();
    let resp = support::within(
        "cross",
        c.get(&start)
            .header("authorization", "Bearer secret")
            .cookies([("sid", "explicit")]),
    )
    .await
    .unwrap();
    assert_eq!(resp.text(), "/landed");
    let log = seen.lock().unwrap().clone();
    assert_eq!(log[0].1.as_deref(), Some("sid=explicit"));
    assert_eq!(log[0].2.as_deref(), Some("Bearer secret"));
    assert_eq!(
        log[1],
        ("/landed".into(), None, None),
        "nothing crosses origins"
    );
    srv.close().await;
}

macro_rules! peer {
    () => {
        match support::httpbin() {
            Some(peer) => peer,
            None => return,
        }
    };
}

#[tokio::test]
async fn httpbin_redirects_cookies_and_retries() {
    let bin = peer!();
    let c = client().build().unwrap();
    for path in [
        "/redirect/3",
        "/absolute-redirect/3",
        "/relative-redirect/2",
    ] {
        let resp = support::within(path, c.get(bin.url(path))).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert!(
            resp.uri().path().ends_with("/get"),
            "{path}: {}",
            resp.uri()
        );
    }
    let err = support::within("/redirect/4", c.get(bin.url("/redirect/4")))
        .await
        .unwrap_err();
    assert!(err.is_too_many_redirects(), "{err}");

    // /cookies/set answers 302 to /cookies: the cookie is stored, then sent on the hop.
    let resp = support::within("cookies", c.get(bin.url("/cookies/set?flavour=oat")))
        .await
        .unwrap();
    let v: Value = resp.json().unwrap();
    assert_eq!(v["cookies"]["flavour"], "oat");

    // /status/503 is retried: 1 + 2 attempts, then the StatusError counts them.
    let err = support::within("503", c.get(bin.url("/status/503")).retries(2))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status().map(|s| s.as_u16()), err.retries()),
        (Some(503), Some(2))
    );
}

#[tokio::test]
async fn the_default_client_uses_the_global_jar() {
    let seen = Seen::default();
    let srv = origin(seen.clone(), Arc::default()).await;
    let url = format!("http://127.0.0.1:{}/set?global=1", srv.port());
    support::within("set", httpstack::get(&url)).await.unwrap();
    let stored = httpstack::client::global_cookie_jar().all();
    assert!(stored.iter().any(|c| c.name == "global"), "{stored:?}");
    srv.close().await;
}
