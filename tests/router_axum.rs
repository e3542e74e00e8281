//! The router and axum together, over real sockets: our `Router` nested in an axum app
//! (`nest_service`, `fallback_service`) served by axum, and an axum `Router` mounted as a
//! route of ours, served by httpstack's server.

mod support;

use axum::extract::Path;
use http::{Method, Request, Response, StatusCode};
use httpstack::router::{param, params, route, Router};
use httpstack::server::serve;

use support::within;

/// Answers `"<route> <name>=<value> ..."` from what our router put in the request.
async fn describe<B>(req: Request<B>) -> Response<String> {
    let mut text = route(&req).unwrap_or("unrouted").to_owned();
    for (name, value) in params(&req).into_iter().flat_map(|p| p.iter()) {
        text.push_str(&format!(" {name}={value}"));
    }
    Response::new(text)
}

async fn get(url: String) -> (StatusCode, String) {
    let resp = within(&url.clone(), httpstack::get(url).status_exception(false))
        .await
        .unwrap();
    (resp.status(), resp.text())
}

#[tokio::test]
async fn our_router_inside_an_axum_app() {
    type AxumBody = axum::body::Body;
    let mut api = Router::<AxumBody>::new();
    api.register(Method::GET, "/users/{id:[0-9]+}", describe::<AxumBody>)
        .unwrap()
        .register(Method::GET, "/files/**", describe::<AxumBody>)
        .unwrap()
        .register(Method::POST, "/users/{id:[0-9]+}", describe::<AxumBody>)
        .unwrap();
    let mut site = Router::<AxumBody>::new();
    site.register(Method::GET, "/pages/{name}", describe::<AxumBody>)
        .unwrap();

    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .nest_service("/api", api)
        .fallback_service(site);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{addr}");

    let cases = [
        ("/health", StatusCode::OK, "ok"),
        // axum strips the nest prefix; our router matches the rest.
        ("/api/users/7", StatusCode::OK, "/users/{id:[0-9]+} id=7"),
        ("/api/files/a/b.txt", StatusCode::OK, "/files/**"),
        ("/api/users/bob", StatusCode::NOT_FOUND, ""),
        // The fallback sees the whole path.
        ("/pages/about", StatusCode::OK, "/pages/{name} name=about"),
        ("/nothing", StatusCode::NOT_FOUND, ""),
    ];
    for (path, status, body) in cases {
        assert_eq!(
            get(format!("{base}{path}")).await,
            (status, body.to_owned()),
            "{path}"
        );
    }
    let resp = within(
        "DELETE",
        httpstack::delete(format!("{base}/api/users/7")).status_exception(false),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.headers()["allow"].to_str().unwrap().contains("POST"));
    server.abort();
}

#[tokio::test]
async fn an_axum_router_inside_ours() {
    let legacy = axum::Router::new()
        .route(
            "/legacy/hello/{name}",
            axum::routing::get(|Path(name): Path<String>| async move {
                format!("axum says hi to {name}")
            }),
        )
        .route(
            "/legacy/route",
            // Our router's extension reaches handlers inside the mounted app.
            axum::routing::get(|req: axum::extract::Request| async move {
                format!("mounted at {}", route(&req).unwrap_or("?"))
            }),
        );
    let mut router = Router::<httpstack::Body>::new();
    router
        .register(
            Method::GET,
            "/native/{id}",
            |req: Request<httpstack::Body>| async move {
                Response::new(format!(
                    "native {}",
                    param::<String>(&req, "id").unwrap_or_else(|_| "?".into())
                ))
            },
        )
        .unwrap()
        .route("/legacy/**", legacy)
        .unwrap();
    let server = serve("127.0.0.1:0", router).await.unwrap();
    let base = format!("http://{}", server.local_addr());

    let cases = [
        ("/native/3", StatusCode::OK, "native 3"),
        (
            "/legacy/hello/julia",
            StatusCode::OK,
            "axum says hi to julia",
        ),
        ("/legacy/route", StatusCode::OK, "mounted at /legacy/**"),
        // Inside `/legacy/**`, axum's own 404 answers.
        ("/legacy/missing", StatusCode::NOT_FOUND, ""),
        ("/other", StatusCode::NOT_FOUND, ""),
    ];
    for (path, status, body) in cases {
        assert_eq!(
            get(format!("{base}{path}")).await,
            (status, body.to_owned()),
            "{path}"
        );
    }
    server.close().await;
}
