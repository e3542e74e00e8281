//! Proxies: forwarding and CONNECT through a real tinyproxy (with and without BasicAuth),
//! per-request choices, and SOCKS5 against a small SOCKS5 server written here.
//! (no_proxy and the environment rules are table-tested in `src/client/proxy.rs`.)

mod support;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response};
use httpstack::server::{handler_fn, serve, server_config_from_pem_bytes, Server};
use httpstack::{Body, Certificate, Client};
use support::tinyproxy::Tinyproxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(20);

async fn bounded<F: IntoFuture>(f: F) -> F::Output {
    support::within_for(LIMIT, "test step", f).await
}

/// What the origin saw: `METHOD target via=<Via> pa=<Proxy-Authorization present>`.
async fn describe(req: Request<httpstack::Body>) -> Response<Body> {
    let via = req
        .headers()
        .get("via")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let pa = req.headers().contains_key("proxy-authorization");
    Response::new(Body::from(format!(
        "{:?} {} {} via={via} pa={pa}",
        req.version(),
        req.method(),
        // HTTP/2 requests carry an absolute URI; print the same for both versions.
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    )))
}

async fn origin() -> Server {
    serve("127.0.0.1:0", handler_fn(describe)).await.unwrap()
}

async fn tls_origin(cert: &support::TestCert) -> Server {
    let config =
        server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    Server::bind("127.0.0.1:0")
        .tls(config)
        .serve(handler_fn(describe))
        .await
        .unwrap()
}

fn proxied(proxy: Option<&str>) -> Client {
    let builder = Client::builder().no_proxy();
    match proxy {
        Some(url) => builder.proxy(url),
        None => builder,
    }
    .build()
    .unwrap()
}

#[tokio::test]
async fn http_is_forwarded_in_absolute_form() {
    let Some(proxy) = Tinyproxy::start(None) else {
        return;
    };
    let origin = origin().await;
    let client = proxied(Some(&proxy.url()));
    let url = format!("http://127.0.0.1:{}/hello?x=1", origin.port());
    for _ in 0..2 {
        let resp = bounded(client.get(&url)).await.unwrap();
        let text = resp.text();
        assert!(text.starts_with("HTTP/1.1 GET /hello?x=1 "), "{text}");
        assert!(text.contains("via=1.1 tinyproxy"), "{text}");
    }
    // The proxy received the absolute-form target (RFC 9112 §3.2.2).
    let log = proxy.log();
    assert!(
        log.contains(&format!(
            "GET http://127.0.0.1:{}/hello?x=1 HTTP/1.1",
            origin.port()
        )),
        "{log}"
    );
    origin.close().await;
}

#[tokio::test]
async fn https_goes_through_connect_with_tls_inside() {
    let Some(proxy) = Tinyproxy::start(None) else {
        return;
    };
    let cert = support::test_cert();
    let origin = tls_origin(&cert).await;
    let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    for (prefer_h2, version) in [(true, "HTTP/2.0"), (false, "HTTP/1.1")] {
        let client = Client::builder()
            .no_proxy()
            .proxy(&proxy.url())
            .add_root_certificate(ca.clone())
            .prefer_http2(prefer_h2)
            .build()
            .unwrap();
        for host in ["localhost", "127.0.0.1"] {
            let url = format!("https://{host}:{}/secure", origin.port());
            let resp = bounded(client.get(&url)).await.unwrap();
            let text = resp.text();
            // The origin sees an origin-form request without the proxy's Via: it was
            // tunnelled, not forwarded.
            assert_eq!(
                text,
                format!("{version} GET /secure via=- pa=false"),
                "{host} h2={prefer_h2}"
            );
        }
    }
    let log = proxy.log();
    assert!(
        log.contains(&format!("CONNECT localhost:{} HTTP/1.1", origin.port())),
        "{log}"
    );
    origin.close().await;
}

#[tokio::test]
async fn proxy_auth_407_and_credentials() {
    let Some(proxy) = Tinyproxy::start(Some(("proxyuser", "s3cret"))) else {
        return;
    };
    let origin = origin().await;
    let cert = support::test_cert();
    let tls = tls_origin(&cert).await;
    let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    let http_url = format!("http://127.0.0.1:{}/a", origin.port());
    let https_url = format!("https://localhost:{}/b", tls.port());
    let with = |proxy_url: &str| {
        Client::builder()
            .no_proxy()
            .proxy(proxy_url)
            .add_root_certificate(ca.clone())
            .build()
            .unwrap()
    };

    // No credentials: the proxy's own 407 answer to a forwarded request is a status
    // error; to a CONNECT, a connect error naming the proxy and its answer.
    let anonymous = with(&proxy.url());
    let err = bounded(anonymous.get(&http_url)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(407), "{err}");
    let err = bounded(anonymous.get(&https_url)).await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let message = err.report();
    for part in [
        proxy.url().as_str(),
        "407",
        "CONNECT localhost:",
        "no credentials",
    ] {
        assert!(message.contains(part), "{part:?} missing in: {message}");
    }

    // Wrong credentials: refused, and the password is never printed.
    let wrong = with(&proxy.url_with("proxyuser", "wrongpass"));
    let err = bounded(wrong.get(&https_url)).await.unwrap_err();
    let message = format!("{} {err:?}", err.report());
    assert!(message.contains("rejected the credentials"), "{message}");
    assert!(!message.contains("wrongpass"), "{message}");
    let err = bounded(wrong.get(&http_url)).await.unwrap_err();
    // tinyproxy answers wrong credentials with 401 (and no credentials with 407).
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");

    // Right credentials: both work, and the origin never sees them.
    let good = with(&proxy.url_with("proxyuser", "s3cret"));
    let text = bounded(good.get(&http_url)).await.unwrap().text();
    assert!(
        text.starts_with("HTTP/1.1 GET /a via=1.1 tinyproxy"),
        "{text}"
    );
    assert!(text.ends_with("pa=false"), "{text}");
    let text = bounded(good.get(&https_url)).await.unwrap().text();
    assert_eq!(text, "HTTP/2.0 GET /b via=- pa=false");

    origin.close().await;
    tls.close().await;
}

#[tokio::test]
async fn per_request_proxy_overrides_the_client() {
    let Some(open_proxy) = Tinyproxy::start(None) else {
        return;
    };
    let Some(locked_proxy) = Tinyproxy::start(Some(("u", "p"))) else {
        return;
    };
    let origin = origin().await;
    let url = format!("http://127.0.0.1:{}/r", origin.port());

    // The client's proxy needs credentials it does not have...
    let client = proxied(Some(&locked_proxy.url()));
    let err = bounded(client.get(&url)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(407), "{err}");
    // ...a request can name another proxy, or go direct.
    let text = bounded(client.get(&url).proxy(&open_proxy.url()))
        .await
        .unwrap()
        .text();
    assert!(text.contains("via=1.1 tinyproxy"), "{text}");
    let text = bounded(client.get(&url).no_proxy()).await.unwrap().text();
    assert!(text.contains("via=-"), "{text}");

    // Direct and proxied connections to the same origin never share a pool.
    let direct = proxied(None);
    for proxied in [false, true, false, true] {
        let request = direct.get(&url);
        let request = if proxied {
            request.proxy(&open_proxy.url())
        } else {
            request
        };
        let text = bounded(request).await.unwrap().text();
        assert_eq!(text.contains("tinyproxy"), proxied, "{text}");
    }

    // An invalid per-request proxy URL is an input error, not a panic or a direct send.
    let err = bounded(direct.get(&url).proxy("gopher://x"))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    origin.close().await;
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_connect_error_naming_it() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let client = proxied(Some(&format!("http://user:topsecret@127.0.0.1:{port}")));
    for url in ["http://127.0.0.1:1/x", "https://localhost:1/x"] {
        // Retries would only wait longer for the same answer.
        let err = bounded(client.get(url).retry(false)).await.unwrap_err();
        assert!(err.is_connect(), "{url}: {err:?}");
        let message = err.report();
        assert!(
            message.contains(&format!("proxy http://127.0.0.1:{port}")),
            "{message}"
        );
        assert!(!format!("{err} {err:?}").contains("topsecret"), "{message}");
    }
}

/// What the SOCKS5 server was asked: the target as sent (domain or address).
type Asked = Arc<Mutex<Vec<String>>>;

/// A minimal SOCKS5 server (RFC 1928 CONNECT, RFC 1929 auth when `auth` is set).
async fn socks5_server(auth: Option<(&'static str, &'static str)>) -> (u16, Asked) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked: Asked = Arc::default();
    let record = asked.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let _ = socks5_session(stream, auth, record).await;
            });
        }
    });
    (port, asked)
}

async fn socks5_session(
    mut s: TcpStream,
    auth: Option<(&str, &str)>,
    asked: Asked,
) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).await?;
    let mut methods = vec![0u8; head[1] as usize];
    s.read_exact(&mut methods).await?;
    let wanted = if auth.is_some() { 0x02 } else { 0x00 };
    if !methods.contains(&wanted) {
        s.write_all(&[0x05, 0xff]).await?;
        return Ok(());
    }
    s.write_all(&[0x05, wanted]).await?;
    if let Some((user, password)) = auth {
        let mut ver_len = [0u8; 2];
        s.read_exact(&mut ver_len).await?;
        let mut u = vec![0u8; ver_len[1] as usize];
        s.read_exact(&mut u).await?;
        let mut plen = [0u8; 1];
        s.read_exact(&mut plen).await?;
        let mut p = vec![0u8; plen[0] as usize];
        s.read_exact(&mut p).await?;
        let ok = u == user.as_bytes() && p == password.as_bytes();
        s.write_all(&[0x01, if ok { 0 } else { 1 }]).await?;
        if !ok {
            return Ok(());
        }
    }
    let mut req = [0u8; 4];
    s.read_exact(&mut req).await?;
    let host = match req[3] {
        0x01 => {
            let mut a = [0u8; 4];
            s.read_exact(&mut a).await?;
            std::net::Ipv4Addr::from(a).to_string()
        }
        0x03 => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await?;
            let mut name = vec![0u8; len[0] as usize];
            s.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => {
            let mut a = [0u8; 16];
            s.read_exact(&mut a).await?;
            std::net::Ipv6Addr::from(a).to_string()
        }
    };
    let mut port = [0u8; 2];
    s.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    asked.lock().unwrap().push(format!("{host}:{port}"));
    let target = match TcpStream::connect((host.as_str(), port)).await {
        Ok(t) => t,
        Err(_) => {
            s.write_all(&[0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0])
                .await?;
            return Ok(());
        }
    };
    s.write_all(&[0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 0])
        .await?;
    let mut target = target;
    tokio::io::copy_bidirectional(&mut s, &mut target).await?;
    Ok(())
}

#[tokio::test]
async fn socks5_tunnels_http_and_https() {
    let (socks_port, asked) = socks5_server(Some(("sockuser", "sockpass"))).await;
    let origin = origin().await;
    let cert = support::test_cert();
    let tls = tls_origin(&cert).await;
    let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    let through = |scheme: &str, userinfo: &str| {
        Client::builder()
            .no_proxy()
            .proxy(&format!("{scheme}://{userinfo}127.0.0.1:{socks_port}"))
            .add_root_certificate(ca.clone())
            .build()
            .unwrap()
    };

    // socks5h: the proxy resolves the name; socks5: the client does.
    let remote = through("socks5h", "sockuser:sockpass@");
    let text = bounded(remote.get(format!("http://localhost:{}/s", origin.port())))
        .await
        .unwrap()
        .text();
    assert_eq!(text, "HTTP/1.1 GET /s via=- pa=false");
    let text = bounded(remote.get(format!("https://localhost:{}/t", tls.port())))
        .await
        .unwrap()
        .text();
    assert_eq!(text, "HTTP/2.0 GET /t via=- pa=false");
    let local = through("socks5", "sockuser:sockpass@");
    bounded(local.get(format!("http://localhost:{}/u", origin.port())))
        .await
        .unwrap();
    let seen = asked.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            format!("localhost:{}", origin.port()),
            format!("localhost:{}", tls.port()),
            // Resolved here: an address (IPv4 or IPv6 loopback, as the resolver orders).
            seen.get(2).cloned().unwrap_or_default(),
        ]
    );
    assert!(
        seen[2].starts_with("127.0.0.1:") || seen[2].starts_with("::1:"),
        "{seen:?}"
    );

    // Refusals are connect errors naming the proxy; the password never shows.
    let wrong = through("socks5h", "sockuser:nope-pass@");
    let err = bounded(wrong.get(format!("http://localhost:{}/", origin.port())))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let message = format!("{} {err:?}", err.report());
    assert!(message.contains("rejected the credentials"), "{message}");
    assert!(!message.contains("nope-pass"), "{message}");
    let anonymous = through("socks5h", "");
    let err = bounded(anonymous.get(format!("http://localhost:{}/", origin.port())))
        .await
        .unwrap_err();
    assert!(err.report().contains("requires authentication"), "{err}");
    let err = bounded(remote.get("http://127.0.0.1:1/").retry(false))
        .await
        .unwrap_err();
    assert!(err.report().contains("connection refused"), "{err}");

    origin.close().await;
    tls.close().await;
}

/// The environment is read when a client is built. The process environment is shared by
/// every test of this binary, so the variables are set only in a child process that runs
/// [`environment_child`] (ignored in normal runs) with them.
#[tokio::test]
async fn environment_proxies_are_read_at_build() {
    let Some(proxy) = Tinyproxy::start(None) else {
        return;
    };
    let origin = origin().await;
    // (variables, whether a request to 127.0.0.1 goes through the proxy). The child's
    // client has proxy_loopback(true), unless HTTPSTACK_TEST_LOOPBACK is "0": by default
    // the environment's proxies leave loopback targets alone.
    let cases: &[(&[(&str, &str)], bool)] = &[
        (&[("http_proxy", &proxy.url())], true),
        (
            &[
                ("http_proxy", &proxy.url()),
                ("HTTPSTACK_TEST_LOOPBACK", "0"),
            ],
            false,
        ),
        (&[("all_proxy", &proxy.url())], true),
        // curl ignores the uppercase HTTP_PROXY, and so do we.
        (&[("HTTP_PROXY", &proxy.url())], false),
        (
            &[("http_proxy", &proxy.url()), ("no_proxy", "127.0.0.0/8")],
            false,
        ),
        (
            &[
                ("http_proxy", &proxy.url()),
                ("NO_PROXY", "localhost,127.0.0.1"),
            ],
            false,
        ),
        (&[("https_proxy", &proxy.url())], false),
    ];
    for (vars, proxied) in cases {
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap());
        child
            .args(["--exact", "environment_child", "--ignored", "--nocapture"])
            .env("HTTPSTACK_TEST_ORIGIN_PORT", origin.port().to_string())
            .env("HTTPSTACK_TEST_PROXIED", proxied.to_string())
            .kill_on_drop(true);
        for name in [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
            "no_proxy",
            "NO_PROXY",
        ] {
            child.env_remove(name);
        }
        for (name, value) in vars.iter() {
            child.env(name, value);
        }
        let out = bounded(child.output()).await.unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "{vars:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    origin.close().await;
}

#[tokio::test]
#[ignore = "run by environment_proxies_are_read_at_build in a child process"]
async fn environment_child() {
    let port = std::env::var("HTTPSTACK_TEST_ORIGIN_PORT").expect("run by the parent test");
    let proxied: bool = std::env::var("HTTPSTACK_TEST_PROXIED")
        .unwrap()
        .parse()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/env");
    let loopback = std::env::var("HTTPSTACK_TEST_LOOPBACK").as_deref() != Ok("0");
    let client = Client::builder().proxy_loopback(loopback).build().unwrap();
    let text = bounded(client.get(&url)).await.unwrap().text();
    assert_eq!(text.contains("via=1.1 tinyproxy"), proxied, "{text}");
    // Turned off, the environment is not read.
    let direct = Client::builder().proxy_from_env(false).build().unwrap();
    let text = bounded(direct.get(&url)).await.unwrap().text();
    assert!(text.contains("via=-"), "{text}");
}

#[tokio::test]
async fn http2_prior_knowledge_clients_speak_http1_to_a_forwarding_proxy() {
    let Some(proxy) = Tinyproxy::start(None) else {
        return;
    };
    let origin = origin().await;
    let cert = support::test_cert();
    let tls = tls_origin(&cert).await;
    let client = Client::builder()
        .no_proxy()
        .proxy(&proxy.url())
        .http2_prior_knowledge()
        .add_root_certificate(Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let text = bounded(client.get(format!("http://127.0.0.1:{}/f", origin.port())))
        .await
        .unwrap()
        .text();
    assert!(
        text.starts_with("HTTP/1.1 GET /f via=1.1 tinyproxy"),
        "{text}"
    );
    let text = bounded(client.get(format!("https://localhost:{}/t", tls.port())))
        .await
        .unwrap()
        .text();
    assert_eq!(text, "HTTP/2.0 GET /t via=- pa=false");
    origin.close().await;
    tls.close().await;
}

/// A forwarding "proxy" that answers the first request of each connection, then closes
/// the connection as soon as a second request arrives on it, without a reply (what
/// tinyproxy does in effect: it never keeps a client connection, and says nothing).
async fn one_shot_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                for round in 0.. {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if s.read_exact(&mut byte).await.is_err() {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let line = String::from_utf8_lossy(&head);
                    let line = line.lines().next().unwrap_or("").to_owned();
                    record.lock().unwrap().push(format!("{round} {line}"));
                    if round > 0 {
                        return; // closes with the request unanswered
                    }
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .await;
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn a_proxy_closing_a_pooled_connection_costs_idempotent_requests_nothing() {
    let (port, seen) = one_shot_proxy().await;
    let client = proxied(Some(&format!("http://127.0.0.1:{port}")));
    let url = "http://origin.test/x";
    for _ in 0..3 {
        assert_eq!(bounded(client.get(url)).await.unwrap().text(), "ok");
    }
    // Each reuse of a pooled connection died and the GET went again on a new one.
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "0 GET http://origin.test/x HTTP/1.1",
            "1 GET http://origin.test/x HTTP/1.1",
            "0 GET http://origin.test/x HTTP/1.1",
            "1 GET http://origin.test/x HTTP/1.1",
            "0 GET http://origin.test/x HTTP/1.1",
        ]
    );
    // A POST is not sent twice: the failure is the caller's to handle.
    let err = bounded(client.post(url).body("data")).await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
}

#[tokio::test]
async fn the_connect_timeout_covers_a_silent_proxy() {
    // Accepts, reads, never answers: the CONNECT (and a SOCKS greeting) hang.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    for proxy in [
        format!("http://127.0.0.1:{port}"),
        format!("socks5h://127.0.0.1:{port}"),
    ] {
        let client = Client::builder()
            .no_proxy()
            .proxy(&proxy)
            .connect_timeout(Some(Duration::from_millis(300)))
            .build()
            .unwrap();
        let err = bounded(client.get("https://localhost:1/").retry(false))
            .await
            .unwrap_err();
        assert_eq!(
            err.timeout_kind(),
            Some(httpstack::TimeoutKind::Connect),
            "{proxy}: {err:?}"
        );
    }
}
