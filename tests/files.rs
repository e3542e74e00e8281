//! Static files over real sockets on 127.0.0.1: `file_server` (index file, SPA fallback,
//! directory redirect, unsafe paths), `serve_file` and `serve_content` in handlers,
//! `file_server` inside axum and over h2c. Requests are written raw
//! (`tests/support/raw_http.rs`) so traversal paths reach the server unnormalised; the
//! large file also goes through httpstack's client.
//!
//! Fixture files are generated into a tempdir (`tests/support/static_files.rs`).

mod support;

use http::{Request, StatusCode};
use http_body_util::BodyExt;
use httpstack::files::{file_server, serve_content, serve_file, Content, EntityTag};
use httpstack::server::{handler_fn, serve, Server};
use support::static_files::{
    big, data, fetch, site, Site, Validators, BIG_LEN, DATA_LEN, DOCS_INDEX, HELLO, INDEX, README,
};

/// A request (method, target, headers with `{placeholders}`) and what it must get.
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Expect,
);

/// What a case expects: status, body (`None`: not checked), and header values (`None`:
/// the header must be absent).
struct Expect {
    status: u16,
    body: Option<Vec<u8>>,
    headers: Vec<(&'static str, Option<String>)>,
}

fn expect(status: u16) -> Expect {
    Expect {
        status,
        body: None,
        headers: Vec::new(),
    }
}

impl Expect {
    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, Some(value.into())));
        self
    }

    fn no_header(mut self, name: &'static str) -> Self {
        self.headers.push((name, None));
        self
    }
}

async fn check_cases(server: &Server, validators: &Validators, cases: Vec<Case>) {
    for (method, target, headers, expected) in cases {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), validators.fill(v)))
            .collect();
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let case = format!("{method} {target} {headers:?}");
        let res = fetch(server.local_addr(), method, target, &header_refs).await;
        assert_eq!(res.status, expected.status, "{case}\n{}", res.head);
        if let Some(body) = &expected.body {
            assert!(res.body == *body, "{case}: body {:?}", res.text());
        }
        for (name, value) in &expected.headers {
            let value = value.as_deref().map(|v| validators.fill(v));
            assert_eq!(
                res.header(name).map(str::to_owned),
                value,
                "{case}: {name}\n{}",
                res.head
            );
        }
    }
}

async fn serve_site(site: &Site, spa: bool) -> Server {
    let files = file_server(site.path());
    let files = if spa {
        files.spa_fallback("index.html")
    } else {
        files
    };
    serve("127.0.0.1:0", files).await.expect("serve")
}

#[tokio::test]
async fn full_head_ranges_and_conditionals() {
    let site = site();
    let server = serve_site(&site, false).await;
    let v = Validators::of(server.local_addr(), "/data.bin").await;
    let data = data();
    let len = DATA_LEN.to_string();
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/hello.txt",
            vec![],
            expect(200)
                .body(HELLO)
                .header("content-type", "text/plain; charset=utf-8")
                .header("x-content-type-options", "nosniff")
                .header("content-length", "14")
                .header("accept-ranges", "bytes")
                .no_header("content-range"),
        ),
        (
            "GET",
            "/data.bin",
            vec![],
            expect(200)
                .body(data.clone())
                .header("content-type", "application/octet-stream")
                .header("content-length", len.as_str())
                .header("etag", "{etag}")
                .header("last-modified", "{lm}"),
        ),
        (
            "HEAD",
            "/data.bin",
            vec![],
            expect(200)
                .body(Vec::new())
                .header("content-length", len.as_str())
                .header("etag", "{etag}")
                .header("accept-ranges", "bytes"),
        ),
        (
            "GET",
            "/README",
            vec![],
            // HTML in a file with no known extension is not sniffed into text/html.
            expect(200)
                .body(README)
                .header("content-type", "application/octet-stream")
                .header("x-content-type-options", "nosniff"),
        ),
        ("GET", "/a%20b.txt", vec![], expect(200).body(HELLO)),
        // Ranges: first bytes, suffix, open-ended, past the end.
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=0-9")],
            expect(206)
                .body(&data[..10])
                .header("content-range", "bytes 0-9/1000")
                .header("content-length", "10"),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=-100")],
            expect(206)
                .body(&data[900..])
                .header("content-range", "bytes 900-999/1000"),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=990-")],
            expect(206)
                .body(&data[990..])
                .header("content-range", "bytes 990-999/1000"),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=500-5000")],
            expect(206)
                .body(&data[500..])
                .header("content-range", "bytes 500-999/1000"),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=1000-")],
            expect(416)
                .body(Vec::new())
                .header("content-range", "bytes */1000"),
        ),
        // Malformed or multiple ranges: ignored (RFC 9110 §14.2), the whole file.
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=9-1")],
            expect(200).body(data.clone()),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=0-1,5-6")],
            expect(200).body(data.clone()),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "lines=1-2")],
            expect(200).body(data.clone()),
        ),
        // HEAD ignores Range (range handling is defined for GET only).
        (
            "HEAD",
            "/data.bin",
            vec![("Range", "bytes=0-9")],
            expect(200).header("content-length", len.as_str()),
        ),
        // If-Range: a matching validator keeps the range, a stale one gets the whole file.
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=0-9"), ("If-Range", "{etag}")],
            expect(206).body(&data[..10]),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=0-9"), ("If-Range", "\"stale\"")],
            expect(200).body(data.clone()).no_header("content-range"),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=0-9"), ("If-Range", "{lm}")],
            expect(206).body(&data[..10]),
        ),
        (
            "GET",
            "/data.bin",
            vec![("Range", "bytes=0-9"), ("If-Range", "{before}")],
            expect(200).body(data.clone()),
        ),
        // 304 for If-None-Match and If-Modified-Since, with the validators.
        (
            "GET",
            "/data.bin",
            vec![("If-None-Match", "{etag}")],
            expect(304)
                .body(Vec::new())
                .header("etag", "{etag}")
                .no_header("content-length"),
        ),
        (
            "HEAD",
            "/data.bin",
            vec![("If-None-Match", "\"x\", {etag}")],
            expect(304),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-None-Match", "*")],
            expect(304),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-None-Match", "\"other\"")],
            expect(200),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Modified-Since", "{lm}")],
            expect(304),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Modified-Since", "{after}")],
            expect(304),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Modified-Since", "{before}")],
            expect(200).body(data.clone()),
        ),
        // If-None-Match present: If-Modified-Since is not evaluated (RFC 9110 §13.2.2).
        (
            "GET",
            "/data.bin",
            vec![
                ("If-None-Match", "\"other\""),
                ("If-Modified-Since", "{after}"),
            ],
            expect(200),
        ),
        // 412 for If-Match and If-Unmodified-Since.
        (
            "GET",
            "/data.bin",
            vec![("If-Match", "{etag}")],
            expect(200),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Match", "\"other\"")],
            expect(412).body(Vec::new()),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Match", "W/{etag}")],
            expect(412),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Unmodified-Since", "{before}")],
            expect(412),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Unmodified-Since", "{lm}")],
            expect(200),
        ),
        // Order: 412 (steps 1–2) before 304 (steps 3–4); If-Match beats If-Unmodified-Since.
        (
            "GET",
            "/data.bin",
            vec![("If-Match", "\"other\""), ("If-None-Match", "{etag}")],
            expect(412),
        ),
        (
            "GET",
            "/data.bin",
            vec![
                ("If-Unmodified-Since", "{before}"),
                ("If-Modified-Since", "{lm}"),
            ],
            expect(412),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Match", "{etag}"), ("If-Unmodified-Since", "{before}")],
            expect(200),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Match", "{etag}"), ("If-None-Match", "{etag}")],
            expect(304),
        ),
        // Preconditions come before the range.
        (
            "GET",
            "/data.bin",
            vec![("If-None-Match", "{etag}"), ("Range", "bytes=0-9")],
            expect(304),
        ),
        (
            "GET",
            "/data.bin",
            vec![("If-Match", "\"other\""), ("Range", "bytes=5000-")],
            expect(412),
        ),
    ];
    check_cases(&server, &v, cases).await;
    server.close().await;
}

#[tokio::test]
async fn paths_methods_directories_and_spa_fallback() {
    let site = site();
    let plain = serve_site(&site, false).await;
    let spa = serve_site(&site, true).await;
    let v = Validators::of(plain.local_addr(), "/hello.txt").await;
    let shared: Vec<Case> = vec![
        // Unsafe or invalid paths: 400, whether or not the target exists.
        ("GET", "/../hello.txt", vec![], expect(400)),
        ("GET", "/docs/../hello.txt", vec![], expect(400)),
        ("GET", "/%2e%2e/hello.txt", vec![], expect(400)),
        ("GET", "/docs/%2E%2E%2Fhello.txt", vec![], expect(400)),
        ("GET", "/docs/..%5chello.txt", vec![], expect(400)),
        ("GET", "/hello.txt%00", vec![], expect(400)),
        ("GET", "/%00/x", vec![], expect(400)),
        ("GET", "/hello%zz.txt", vec![], expect(400)),
        ("GET", "/hello.txt%", vec![], expect(400)),
        ("GET", "/%e9t%e9", vec![], expect(400)),
        // Only GET and HEAD.
        (
            "POST",
            "/hello.txt",
            vec![("Content-Length", "0")],
            expect(405).header("allow", "GET, HEAD"),
        ),
        (
            "DELETE",
            "/hello.txt",
            vec![],
            expect(405).header("allow", "GET, HEAD"),
        ),
        // Directories: redirect without the slash (relative, keeping the query), index
        // file with it.
        (
            "GET",
            "/docs",
            vec![],
            expect(301).header("location", "docs/"),
        ),
        (
            "GET",
            "/docs?lang=en",
            vec![],
            expect(301).header("location", "docs/?lang=en"),
        ),
        (
            "HEAD",
            "/docs",
            vec![],
            expect(301).header("location", "docs/"),
        ),
        (
            "GET",
            "/docs/",
            vec![],
            expect(200)
                .body(DOCS_INDEX)
                .header("content-type", "text/html; charset=utf-8"),
        ),
        ("GET", "/", vec![], expect(200).body(INDEX)),
        ("GET", "//docs//", vec![], expect(200).body(DOCS_INDEX)),
        // Missing assets are 404 with or without the SPA fallback.
        ("GET", "/missing.css", vec![], expect(404)),
        ("GET", "/app/main.js", vec![], expect(404)),
        ("GET", "/hello.txt/x", vec![], expect(404)),
    ];
    check_cases(&plain, &v, shared).await;
    // The same again under the SPA server, then where they differ.
    let shared_spa: Vec<Case> = vec![
        ("GET", "/../hello.txt", vec![], expect(400)),
        ("GET", "/missing.css", vec![], expect(404)),
        ("GET", "/app/main.js", vec![], expect(404)),
        (
            "GET",
            "/docs",
            vec![],
            expect(301).header("location", "docs/"),
        ),
        ("GET", "/hello.txt", vec![], expect(200).body(HELLO)),
    ];
    check_cases(&spa, &v, shared_spa).await;
    let differ: [(&str, u16, u16); 4] = [
        ("/settings", 404, 200),
        ("/settings/profile", 404, 200),
        ("/users/42/", 404, 200),
        // A directory without an index file: 404 plain, the app under SPA.
        ("/empty/", 404, 200),
    ];
    for (target, plain_status, spa_status) in differ {
        let res = fetch(plain.local_addr(), "GET", target, &[]).await;
        assert_eq!(res.status, plain_status, "plain {target}");
        let res = fetch(spa.local_addr(), "GET", target, &[]).await;
        assert_eq!(res.status, spa_status, "spa {target}");
        assert_eq!(res.text(), INDEX, "spa {target}");
        assert_eq!(
            res.header("content-type"),
            Some("text/html; charset=utf-8"),
            "spa {target}"
        );
    }
    // The fallback honours conditionals like any file.
    let index = Validators::of(spa.local_addr(), "/").await;
    let res = fetch(
        spa.local_addr(),
        "GET",
        "/settings",
        &[("If-None-Match", &index.etag)],
    )
    .await;
    assert_eq!(res.status, 304);
    plain.close().await;
    spa.close().await;
}

#[tokio::test]
async fn large_file_streams_in_bounded_chunks() {
    let site = site();
    let big = big();

    // In process: the body arrives as many frames of at most 64 KiB.
    let req = Request::get("/big.bin").body(()).unwrap();
    let res = serve_file(&req, site.path().join("big.bin")).await;
    assert_eq!(res.headers()["content-length"], BIG_LEN.to_string());
    let mut body = res.into_body();
    let (mut frames, mut got) = (0, Vec::with_capacity(BIG_LEN));
    while let Some(frame) = body.frame().await {
        let chunk = frame.expect("frame").into_data().expect("data");
        assert!(chunk.len() <= 64 * 1024, "frame of {} bytes", chunk.len());
        frames += 1;
        got.extend_from_slice(&chunk);
    }
    assert!(frames >= BIG_LEN / (64 * 1024), "{frames} frames");
    assert!(got == big, "bytes differ");

    // Over a socket: the head and the first 64 KiB can be read before the rest, and a
    // range deep in the file comes back exact.
    let server = serve_site(&site, false).await;
    let mut conn = support::raw_http::connect(server.local_addr()).await;
    support::raw_http::write(
        &mut conn,
        "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let head = support::within("head", support::raw_http::read_head(&mut conn)).await;
    assert!(
        head.contains(&format!("content-length: {BIG_LEN}\r\n")),
        "{head}"
    );
    let mut first = vec![0; 64 * 1024];
    support::within(
        "first chunk",
        tokio::io::AsyncReadExt::read_exact(&mut conn, &mut first),
    )
    .await
    .expect("first chunk");
    assert!(first == big[..64 * 1024]);
    let rest = support::within("rest", support::raw_http::read_until_closed(&mut conn)).await;
    assert_eq!(rest.len(), BIG_LEN - 64 * 1024);
    assert!(rest == big[64 * 1024..]);

    let url = format!("http://{}/big.bin", server.local_addr());
    let res = httpstack::get(&url).await.expect("GET big.bin");
    assert_eq!(res.body().len(), BIG_LEN);
    assert!(res.body()[..] == big[..]);
    let start = 5_000_000;
    let res = httpstack::get(&url)
        .header("range", format!("bytes={start}-{}", start + 99_999))
        .await
        .expect("range");
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert!(res.body()[..] == big[start..start + 100_000]);
    server.close().await;
}

#[tokio::test]
async fn serve_file_and_serve_content_in_handlers() {
    let site = site();
    let root = site.path().to_owned();
    let server = serve(
        "127.0.0.1:0",
        handler_fn(move |req: Request<httpstack::Body>| {
            let root = root.clone();
            async move {
                match req.uri().path() {
                    "/report" => serve_file(&req, root.join("data.bin")).await,
                    "/folder" | "/folder/" => serve_file(&req, root.join("docs")).await,
                    "/gone" => serve_file(&req, root.join("nope.txt")).await,
                    "/bytes" => {
                        let content = Content::from_bytes("hello content")
                            .etag(EntityTag::strong("v7").unwrap());
                        serve_content(&req, content).await
                    }
                    _ => {
                        let file = tokio::fs::File::open(root.join("README")).await.unwrap();
                        serve_content(&req, Content::from_reader(file)).await
                    }
                }
            }
        }),
    )
    .await
    .expect("serve");
    let v = Validators::of(server.local_addr(), "/report").await;
    let data = data();
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/report",
            vec![],
            expect(200).body(data.clone()).header("etag", "{etag}"),
        ),
        (
            "GET",
            "/report",
            vec![("Range", "bytes=-1")],
            expect(206).body(&data[999..]),
        ),
        (
            "GET",
            "/report",
            vec![("If-None-Match", "{etag}")],
            expect(304),
        ),
        ("PUT", "/report", vec![("Content-Length", "0")], expect(405)),
        (
            "GET",
            "/folder",
            vec![],
            expect(301).header("location", "folder/"),
        ),
        ("GET", "/folder/", vec![], expect(200).body(DOCS_INDEX)),
        ("GET", "/gone", vec![], expect(404)),
        (
            "GET",
            "/bytes",
            vec![],
            expect(200).body("hello content").header("etag", "\"v7\""),
        ),
        (
            "GET",
            "/bytes",
            vec![("Range", "bytes=6-")],
            expect(206).body("content"),
        ),
        ("GET", "/bytes", vec![("If-Match", "\"v6\"")], expect(412)),
        (
            "GET",
            "/bytes",
            vec![("If-None-Match", "W/\"v7\"")],
            expect(304),
        ),
        (
            "GET",
            "/reader",
            vec![],
            expect(200)
                .body(README)
                .header("content-type", "text/html; charset=utf-8")
                .no_header("etag"),
        ),
        (
            "GET",
            "/reader",
            vec![("Range", "bytes=12-15")],
            expect(206).body("read"),
        ),
        (
            "GET",
            "/reader",
            vec![("Range", "bytes=99-")],
            expect(416).header("content-range", "bytes */33"),
        ),
    ];
    check_cases(&server, &v, cases).await;
    server.close().await;
}

#[tokio::test]
async fn file_server_inside_axum() {
    let site = site();
    let app = axum::Router::new()
        .route("/api", axum::routing::get(|| async { "api" }))
        .nest_service("/static", file_server(site.path()));
    let server = serve("127.0.0.1:0", app).await.expect("serve axum");
    let v = Validators::of(server.local_addr(), "/static/hello.txt").await;
    let cases: Vec<Case> = vec![
        ("GET", "/api", vec![], expect(200).body("api")),
        ("GET", "/static/hello.txt", vec![], expect(200).body(HELLO)),
        (
            "GET",
            "/static/hello.txt",
            vec![("Range", "bytes=0-4")],
            expect(206).body("Hello"),
        ),
        (
            "GET",
            "/static/hello.txt",
            vec![("If-None-Match", "{etag}")],
            expect(304),
        ),
        // The relative redirect resolves under the mount point.
        (
            "GET",
            "/static/docs",
            vec![],
            expect(301).header("location", "docs/"),
        ),
        ("GET", "/static/docs/", vec![], expect(200).body(DOCS_INDEX)),
        ("GET", "/static/%2e%2e/x", vec![], expect(400)),
        ("GET", "/static/missing.txt", vec![], expect(404)),
    ];
    check_cases(&server, &v, cases).await;
    server.close().await;
}

#[tokio::test]
async fn over_h2c() {
    let site = site();
    let server = serve_site(&site, false).await;
    let mut h2 =
        support::h2c::h2c::<http_body_util::Empty<bytes::Bytes>>(server.local_addr()).await;
    let data = data();
    /// Method, path, Range, then the status, body and Content-Length expected.
    type H2Case<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        u16,
        &'a [u8],
        Option<&'a str>,
    );
    let cases: [H2Case; 5] = [
        ("GET", "/data.bin", None, 200, &data, Some("1000")),
        (
            "GET",
            "/data.bin",
            Some("bytes=10-19"),
            206,
            &data[10..20],
            Some("10"),
        ),
        ("HEAD", "/data.bin", None, 200, b"", Some("1000")),
        ("GET", "/data.bin", Some("bytes=2000-"), 416, b"", None),
        ("GET", "/%2e%2e/data.bin", None, 400, b"", None),
    ];
    for (method, path, range, status, body, length) in cases {
        let case = format!("h2c {method} {path} {range:?}");
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", server.local_addr()));
        if let Some(range) = range {
            req = req.header("range", range);
        }
        let req = req.body(http_body_util::Empty::new()).unwrap();
        support::within("h2 ready", h2.ready())
            .await
            .expect("h2 ready");
        let res = support::within(&case, h2.send_request(req))
            .await
            .expect(&case);
        assert_eq!(res.status().as_u16(), status, "{case}");
        if let Some(length) = length {
            assert_eq!(res.headers()["content-length"], length, "{case}");
        }
        let got = support::within(&case, res.into_body().collect())
            .await
            .expect(&case)
            .to_bytes();
        assert!(got[..] == *body, "{case}: {} bytes", got.len());
    }
    server.close().await;
}

/// Hostile file-system input: links out of the root, names too long for the file system,
/// an uploaded `.custom` file holding HTML, an SPA fallback outside the root.
#[tokio::test]
async fn hostile_paths_and_files_stay_inside_the_root_and_typed_as_sent() {
    let site = site();
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("secret.txt"), "secret").expect("write secret");
    std::fs::create_dir(outside.path().join("dir")).expect("mkdir");
    std::fs::write(outside.path().join("dir/inner.txt"), "inner").expect("write inner");
    std::fs::write(outside.path().join("index.html"), "outside index").expect("write");
    let root = site.path();
    // A link to a file outside, and a link to a directory outside (the link is a middle
    // component of the path asked for).
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("secret.txt"))
        .expect("symlink file");
    std::os::unix::fs::symlink(outside.path().join("dir"), root.join("linked"))
        .expect("symlink dir");
    // A link that stays inside the root is fine.
    std::os::unix::fs::symlink(root.join("hello.txt"), root.join("alias.txt"))
        .expect("symlink inside");
    std::fs::write(root.join("evil.custom"), "<script>alert(1)</script>").expect("write");

    let strict = serve("127.0.0.1:0", file_server(root))
        .await
        .expect("serve");
    let trusting = serve("127.0.0.1:0", file_server(root).follow_symlinks(true))
        .await
        .expect("serve");
    let escaping_spa = serve(
        "127.0.0.1:0",
        file_server(root).spa_fallback("../index.html"),
    )
    .await
    .expect("serve");

    let long_segment = format!("/{}", "a".repeat(256));
    let long_path = format!("/{}", vec!["b".repeat(250); 17].join("/"));
    let cases: [(&Server, &str, u16, Option<&str>); 9] = [
        (&strict, "/secret.txt", 404, None),
        (&strict, "/linked/inner.txt", 404, None),
        (&strict, "/alias.txt", 200, Some(HELLO)),
        (&trusting, "/secret.txt", 200, Some("secret")),
        (&trusting, "/linked/inner.txt", 200, Some("inner")),
        (&strict, &long_segment, 404, None),
        (&strict, &long_path, 404, None),
        (&escaping_spa, "/settings/profile", 404, None),
        (
            &strict,
            "/evil.custom",
            200,
            Some("<script>alert(1)</script>"),
        ),
    ];
    for (server, target, status, body) in cases {
        let res = fetch(server.local_addr(), "GET", target, &[]).await;
        let case = format!("{} {target}", server.local_addr());
        assert_eq!(res.status, status, "{case}: {}", res.head);
        if let Some(body) = body {
            assert_eq!(res.text(), body, "{case}");
        }
    }
    let res = fetch(strict.local_addr(), "GET", "/evil.custom", &[]).await;
    assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    for server in [strict, trusting, escaping_spa] {
        server.close().await;
    }
}

/// HTTP.jl's directory rules: one address per resource, relative links kept working.
#[tokio::test]
async fn directory_and_index_redirects_keep_the_query() {
    let site = site();
    let server = serve("127.0.0.1:0", file_server(site.path()))
        .await
        .expect("serve");
    let cases = [
        ("/docs?x=1", "docs/?x=1"),
        ("/docs/index.html", "./"),
        ("/docs/index.html?x=1", "./?x=1"),
        ("/index.html", "./"),
        ("/hello.txt/", "../hello.txt"),
        ("/hello.txt/?x=1", "../hello.txt?x=1"),
    ];
    for (target, location) in cases {
        let res = fetch(server.local_addr(), "GET", target, &[]).await;
        assert_eq!(res.status, 301, "{target}: {}", res.head);
        assert_eq!(res.header("location"), Some(location), "{target}");
    }
    // serve_file follows the file rule too.
    let req = Request::get("/report.txt/").body(()).expect("request");
    let res = serve_file(&req, site.path().join("hello.txt")).await;
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(res.headers()["location"], "../report.txt");
    server.close().await;
}

/// HTTP.jl's `servefile` options: `Cache-Control`, no `ETag`, or the application's own.
#[tokio::test]
async fn serve_file_options_cache_control_and_etag() {
    use httpstack::files::{serve_file_with, FileOptions};
    let site = site();
    let path = site.path().join("hello.txt");
    let get = |headers: &[(&str, &str)]| {
        let mut req = Request::get("/hello.txt");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(()).expect("request")
    };
    // Cache-Control on the 200 and the 304, with the application's ETag.
    let options = FileOptions::new()
        .cache_control("public, max-age=60")
        .etag_with(|meta| EntityTag::strong(format!("v{}", meta.len())).ok());
    let res = serve_file_with(&get(&[]), &path, &options).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    assert_eq!(res.headers()["etag"], "\"v14\"");
    let res = serve_file_with(&get(&[("if-none-match", "\"v14\"")]), &path, &options).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    // No ETag at all: Last-Modified still validates.
    let res = serve_file_with(&get(&[]), &path, &FileOptions::new().etag(false)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("etag"));
    assert!(res.headers().contains_key("last-modified"));
    assert!(!res.headers().contains_key("cache-control"));
    // A value that is no header value is ignored (and logged), not sent broken.
    let broken = FileOptions::new().cache_control("max-age=1\r\nx-injected: 1");
    let res = serve_file_with(&get(&[]), &path, &broken).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("cache-control"));
    assert!(!res.headers().contains_key("x-injected"));
    // A missing file gets no Cache-Control.
    let missing = site.path().join("missing.txt");
    let res = serve_file_with(&get(&[]), &missing, &options).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!res.headers().contains_key("cache-control"));
    // The same options on a file server.
    let server = serve("127.0.0.1:0", file_server(site.path()).options(options))
        .await
        .expect("serve");
    let res = fetch(server.local_addr(), "GET", "/hello.txt", &[]).await;
    assert_eq!(res.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(res.header("etag"), Some("\"v14\""));
    server.close().await;
}
