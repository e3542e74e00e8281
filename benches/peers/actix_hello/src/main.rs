//! The actix-web peer of `benches/server_load.rs`: HTTP.jl's benchmark workload
//! (`GET /tiny` → 200 with an empty body, `GET /json` → a ~200-byte JSON object,
//! `GET /large` → 100 KiB, `GET /` → `Hello, World!`) on 127.0.0.1, HTTP/1.1 and h2c (prior knowledge) on one port.
//!
//! One worker, so the whole server runs where the bench pins it (`taskset -c 0`). Prints
//! `READY <port>` once listening; exits when its standard input closes, so it never
//! outlives the bench that started it.

use std::io::Read;

use actix_web::http::header::{ContentType, CONTENT_TYPE};
use actix_web::{web, App, HttpResponse, HttpServer};

/// The `/json` body; the same bytes as the bench's other servers send.
const JSON: &str = include_str!("hello.json");
/// The `/large` body: 100 KiB of `x`.
static LARGE: [u8; 100 * 1024] = [b'x'; 100 * 1024];

async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain"))
        .body("Hello, World!")
}

async fn tiny() -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(JSON)
}

async fn large() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/octet-stream"))
        .body(&LARGE[..])
}

/// Exits the process once standard input reaches end-of-file (the bench closed it, or
/// died). Reads are bounded by the pipe: the loop ends at EOF or on an error.
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 64];
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        std::process::exit(0);
    });
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    exit_when_stdin_closes();
    // `bind_auto_h2c` is deprecated from actix-web 4.19 on, where `bind` detects h2c by
    // itself; it still does the same, and older 4.x releases need it.
    #[allow(deprecated)]
    let server = HttpServer::new(|| {
        App::new()
            .route("/", web::get().to(hello))
            .route("/tiny", web::get().to(tiny))
            .route("/json", web::get().to(json))
            .route("/large", web::get().to(large))
    })
    .workers(1)
    .bind_auto_h2c(("127.0.0.1", 0))?;
    let port = server.addrs()[0].port();
    println!("READY {port}");
    server.run().await
}
