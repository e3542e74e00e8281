//! The server side of cookies (HTTP.jl `cookie_middleware`, `getcookies`): a
//! `CookieParseLayer` in front of an httpstack handler and inside an axum app, reached by a
//! real hyper client over 127.0.0.1; handlers read the parsed cookies and set cookies with
//! every attribute.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use httpstack::middleware::cookies::{
    add_cookie, cookies, Cookie, CookieParseLayer, ParsedCookies, SameSite,
};
use httpstack::server::{handler_fn, serve, Server};
use httpstack::Body;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::within;
use tower::ServiceBuilder;

/// The cookie every handler here sets, with every attribute.
fn session_cookie() -> Cookie {
    Cookie::new("session", "a b")
        .with_path("/app")
        .with_domain("example.com")
        .with_expires(UNIX_EPOCH + Duration::from_secs(1_623_233_894))
        .with_max_age(3600)
        .with_http_only(true)
        .with_secure(true)
        .with_same_site(SameSite::Lax)
}

const SESSION_SET_COOKIE: &str = "session=\"a b\"; Path=/app; Domain=example.com; \
     Expires=Wed, 09 Jun 2021 10:18:14 GMT; Max-Age=3600; HttpOnly; Secure; SameSite=Lax";

/// `name=value` lines of the cookies a handler saw.
fn listing(cookies: &[Cookie]) -> String {
    cookies
        .iter()
        .map(|c| format!("{}={}\n", c.name, c.value))
        .collect()
}

/// GETs `path` with the given `Cookie` headers; the response with its body as text.
async fn get(server: &Server, path: &str, cookie_headers: &[&str]) -> Response<String> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut req = Request::get(format!("http://127.0.0.1:{}{}", server.port(), path));
    for value in cookie_headers {
        req = req.header("cookie", *value);
    }
    let resp = within("GET", client.request(req.body(Empty::new()).unwrap()))
        .await
        .expect("GET");
    let (parts, body) = resp.into_parts();
    let body = within("body", body.collect())
        .await
        .expect("body")
        .to_bytes();
    Response::from_parts(parts, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn an_httpstack_handler_reads_parsed_cookies_and_sets_one() {
    let handler = handler_fn(|req: Request<httpstack::Body>| async move {
        // `cookies(&req)` reads what the layer parsed into the extensions.
        let parsed = req.extensions().get::<ParsedCookies>().is_some();
        let mut resp = Response::new(Body::from(format!(
            "parsed={parsed}\n{}",
            listing(&cookies(&req))
        )));
        add_cookie(&mut resp, &session_cookie()).unwrap();
        add_cookie(&mut resp, &Cookie::new("gone", "").with_max_age(0)).unwrap();
        resp
    });
    let app = ServiceBuilder::new()
        .layer(CookieParseLayer::new())
        .service(handler);
    let server = within("serve", serve("127.0.0.1:0", app))
        .await
        .expect("serve");

    let resp = get(
        &server,
        "/",
        &["a=1; b=\"quoted\"; bad name=2; c=x\\y", "d="],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.body(), "parsed=true\na=1\nb=quoted\nd=\n");
    let set: Vec<_> = resp.headers().get_all("set-cookie").iter().collect();
    assert_eq!(set, [SESSION_SET_COOKIE, "gone=; Max-Age=0"]);
    // The Set-Cookie line parses back to the cookie that was set.
    assert_eq!(cookies(&resp)[0], session_cookie());

    let resp = get(&server, "/", &[]).await;
    assert_eq!(resp.body(), "parsed=true\n");
    within("close", server.close()).await;
}

#[tokio::test]
async fn inside_an_axum_app() {
    use axum::extract::Extension;
    use axum::routing::get as route_get;

    let app = axum::Router::new()
        .route(
            "/extension",
            route_get(|Extension(parsed): Extension<ParsedCookies>| async move {
                format!("user={}", parsed.value("user").unwrap_or("none"))
            }),
        )
        .route(
            "/request",
            route_get(|req: axum::extract::Request| async move {
                let mut resp =
                    axum::response::Response::new(axum::body::Body::from(listing(&cookies(&req))));
                add_cookie(&mut resp, &session_cookie()).unwrap();
                resp
            }),
        )
        .layer(CookieParseLayer::new());
    let server = within("serve", serve("127.0.0.1:0", app))
        .await
        .expect("serve");

    let resp = get(&server, "/extension", &["user=\"julia\"; theme=dark"]).await;
    assert_eq!(resp.body(), "user=julia");
    let resp = get(&server, "/extension", &[]).await;
    assert_eq!(resp.body(), "user=none");

    let resp = get(&server, "/request", &["x=1", "y=2"]).await;
    assert_eq!(resp.body(), "x=1\ny=2\n");
    assert_eq!(resp.headers()["set-cookie"], SESSION_SET_COOKIE);
    within("close", server.close()).await;
}
