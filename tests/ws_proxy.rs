//! The WebSocket client through proxies: ws:// and wss:// echo through a real tinyproxy
//! (a `CONNECT` tunnel for both, RFC 6455 §4.1), with and without BasicAuth, the
//! client's proxy versus a per-connection one, and TLS options mapped onto a client.

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use httpstack::server::{server_config_from_pem_bytes, Server};
use httpstack::ws::{self, WebSocket};
use httpstack::{Certificate, Client};
use support::tinyproxy::Tinyproxy;

const LIMIT: Duration = Duration::from_secs(20);

async fn bounded<F: IntoFuture>(f: F) -> F::Output {
    support::within_for(LIMIT, "test step", f).await
}

/// A plain and a TLS echo server (`ws::echo`), and the CA that signs the TLS one.
struct Origins {
    plain: Server,
    tls: Server,
    ca: Certificate,
}

impl Origins {
    async fn start() -> Origins {
        let cert = support::test_cert();
        let config =
            server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes())
                .unwrap();
        let plain = Server::bind("127.0.0.1:0").serve(ws::echo()).await.unwrap();
        let tls = Server::bind("127.0.0.1:0")
            .tls(config)
            .serve(ws::echo())
            .await
            .unwrap();
        let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
        Origins { plain, tls, ca }
    }

    /// (ws:// URL, wss:// URL); TLS by the certificate's name, `localhost`.
    fn urls(&self) -> [String; 2] {
        [
            format!("ws://127.0.0.1:{}/echo", self.plain.port()),
            format!("wss://localhost:{}/echo", self.tls.port()),
        ]
    }

    async fn close(self) {
        self.plain.close().await;
        self.tls.close().await;
    }
}

/// A client with exactly this proxy (none from the environment) trusting the test CA.
fn client_via(proxy: Option<&str>, ca: &Certificate) -> Client {
    let builder = Client::builder()
        .no_proxy()
        .add_root_certificate(ca.clone());
    match proxy {
        Some(url) => builder.proxy(url),
        None => builder,
    }
    .build()
    .unwrap()
}

/// How many CONNECT requests a tinyproxy log shows.
fn tunnels(log: &str) -> usize {
    log.lines()
        .filter(|line| line.contains("): CONNECT "))
        .count()
}

/// Text, binary and a 200 KB message come back in order; then a clean close.
async fn echo_round(mut ws: WebSocket, case: &str) {
    let big: Vec<u8> = (0..200 * 1024).map(|i| (i % 251) as u8).collect();
    ws.send("hello").await.unwrap();
    ws.send(vec![0u8, 1, 2, 255]).await.unwrap();
    ws.send(big.clone()).await.unwrap();
    assert_eq!(
        bounded(ws.receive()).await.unwrap().as_text(),
        Some("hello"),
        "{case}"
    );
    assert_eq!(
        bounded(ws.receive()).await.unwrap().as_bytes(),
        &[0u8, 1, 2, 255][..],
        "{case}"
    );
    assert_eq!(
        bounded(ws.receive()).await.unwrap().as_bytes(),
        &big[..],
        "{case}"
    );
    ws.close(1000, "").await.unwrap();
}

#[tokio::test]
async fn ws_and_wss_echo_through_tinyproxy() {
    let Some(proxy) = Tinyproxy::start(None) else {
        return;
    };
    let origins = Origins::start().await;
    let client = client_via(Some(&proxy.url()), &origins.ca);
    for url in origins.urls() {
        let ws = bounded(ws::connect(&url).client(client.clone()))
            .await
            .unwrap_or_else(|e| panic!("case {url}: {e}"));
        assert_eq!(ws.response().status(), 101, "case {url}");
        echo_round(ws, &url).await;
    }
    // Both went through a CONNECT tunnel: a forwarding proxy would drop `Upgrade`.
    let log = proxy.log();
    for authority in [
        format!("127.0.0.1:{}", origins.plain.port()),
        format!("localhost:{}", origins.tls.port()),
    ] {
        assert!(
            log.contains(&format!("CONNECT {authority} HTTP/1.1")),
            "{authority}: {log}"
        );
    }
    origins.close().await;
}

#[tokio::test]
async fn proxy_credentials_407_and_401() {
    let Some(proxy) = Tinyproxy::start(Some(("wsuser", "s3cret"))) else {
        return;
    };
    let origins = Origins::start().await;

    // No credentials: the proxy's 407 to the CONNECT is a connect error naming the proxy
    // and its answer, with the ws URL.
    let anonymous = client_via(Some(&proxy.url()), &origins.ca);
    for url in origins.urls() {
        let err = bounded(ws::connect(&url).client(anonymous.clone()))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "case {url}: {err:?}");
        assert_eq!(err.url(), Some(url.as_str()), "case {url}");
        let message = err.report();
        println!("case {url}: {message}");
        for part in ["407", "CONNECT", "no credentials"] {
            assert!(message.contains(part), "case {url}: {part:?} in {message}");
        }
    }

    // Wrong credentials: refused, and the password never printed.
    let wrong = client_via(Some(&proxy.url_with("wsuser", "wrongpass")), &origins.ca);
    for url in origins.urls() {
        let err = bounded(ws::connect(&url).client(wrong.clone()))
            .await
            .unwrap_err();
        let message = format!("{} {err:?}", err.report());
        assert!(err.is_connect(), "case {url}: {message}");
        assert!(
            message.contains("rejected the credentials"),
            "case {url}: {message}"
        );
        assert!(!message.contains("wrongpass"), "case {url}: {message}");
    }

    // The right ones: both schemes open and echo.
    let good = client_via(Some(&proxy.url_with("wsuser", "s3cret")), &origins.ca);
    for url in origins.urls() {
        let ws = bounded(ws::connect(&url).client(good.clone()))
            .await
            .unwrap_or_else(|e| panic!("case {url}: {e}"));
        echo_round(ws, &url).await;
    }
    origins.close().await;
}

#[tokio::test]
async fn per_connection_proxy_overrides_the_client() {
    let Some(open_proxy) = Tinyproxy::start(None) else {
        return;
    };
    let Some(locked_proxy) = Tinyproxy::start(Some(("u", "p"))) else {
        return;
    };
    let origins = Origins::start().await;
    let [ws_url, wss_url] = origins.urls();

    // The client's proxy wants credentials it does not have...
    let locked = client_via(Some(&locked_proxy.url()), &origins.ca);
    let err = bounded(ws::connect(&ws_url).client(locked.clone()))
        .await
        .unwrap_err();
    assert!(err.report().contains("407"), "{err}");
    // ...a connection can name another proxy, or go direct.
    for url in [&ws_url, &wss_url] {
        let ws = bounded(
            ws::connect(url)
                .client(locked.clone())
                .proxy(&open_proxy.url()),
        )
        .await
        .unwrap_or_else(|e| panic!("case {url} via proxy: {e}"));
        echo_round(ws, url).await;
        let ws = bounded(ws::connect(url).client(locked.clone()).no_proxy())
            .await
            .unwrap_or_else(|e| panic!("case {url} direct: {e}"));
        echo_round(ws, url).await;
    }
    let log = open_proxy.log();
    assert_eq!(tunnels(&log), 2, "{log}");

    // With the default client: a per-connection proxy, and TLS options mapped onto it.
    let ws = bounded(
        ws::connect(&wss_url)
            .proxy(&open_proxy.url())
            .platform_roots(false)
            .add_root_certificate(origins.ca.clone()),
    )
    .await
    .unwrap();
    echo_round(ws, &wss_url).await;
    assert_eq!(tunnels(&open_proxy.log()), 3);

    // Bad choices are input errors, never a direct connection.
    let err = bounded(ws::connect(&ws_url).proxy("gopher://x"))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    let err = bounded(ws::connect(&ws_url).proxy(&open_proxy.url()).http2(true))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    assert_eq!(tunnels(&open_proxy.log()), 3);
    origins.close().await;
}

#[tokio::test]
async fn first_frame_right_behind_the_101_survives_the_tunnel() {
    let Some(proxy) = Tinyproxy::start(None) else {
        return;
    };
    // The server speaks first: its frame may arrive with the 101 head (the "excess"
    // openraw hands over) or after it; either way it is read once.
    let service = ws::upgrade(|mut ws: WebSocket| async move {
        ws.send("first").await?;
        ws.send("second").await?;
        ws.close(1000, "done").await
    });
    let server = Server::bind("127.0.0.1:0").serve(service).await.unwrap();
    let url = format!("ws://127.0.0.1:{}/greet", server.port());
    for via in [None, Some(proxy.url())] {
        let mut connect = ws::connect(&url).no_proxy();
        if let Some(proxy) = &via {
            connect = connect.proxy(proxy);
        }
        let mut ws = bounded(connect).await.unwrap();
        assert_eq!(
            bounded(ws.receive()).await.unwrap().as_text(),
            Some("first"),
            "{via:?}"
        );
        assert_eq!(
            bounded(ws.receive()).await.unwrap().as_text(),
            Some("second"),
            "{via:?}"
        );
        let err = bounded(ws.receive()).await.unwrap_err();
        assert_eq!(err.close_frame().map(|f| f.code), Some(1000), "{via:?}");
    }
    server.close().await;
}
