//! WebSocket load benchmark: HTTP.jl's WebSocket cells (its `bench/websocket`) for
//! httpstack and for raw tokio-tungstenite, in the same run, printed as ratios.
//!
//! Run: `cargo bench --bench ws_load` (`BENCH_SECS=1` for a quick look; default 3 per
//! stack per cell, split into rounds that alternate the stacks so drift spreads evenly;
//! `BENCH_CELLS=push_16b,send_1m` runs only those cells; `BENCH_MIX=client` pairs
//! httpstack's client with the raw server, to measure the client alone; `BENCH_WARMUP=0`
//! skips the warm-up and `BENCH_VERBOSE=1` prints message counts, for profiler runs such
//! as `valgrind --tool=callgrind`, where instructions per message are steadier than
//! wall-clock rates on a shared machine; for those, `BENCH_MESSAGES=N` also ends each
//! round after N messages and `BENCH_STACK=httpstack` or `tungstenite` runs one stack).
//!
//! Cells (the client sends or receives for the measured time):
//!
//! - `send_16b`: client → server 16-byte text messages, messages/s;
//! - `push_16b`: server → client 16-byte text messages, messages/s;
//! - `send_4k`: client → server 4 KiB binary messages, MB/s;
//! - `echo_64k`: 64 KiB binary round trips (send, wait for the echo), MB/s;
//! - `send_1m`: client → server 1 MiB binary messages, MB/s.
//!
//! Stacks, each end with its own: `httpstack` — `ws::listen` (the httpstack server,
//! hyper's upgrade) and `ws::connect(..).permessage_deflate(false)`; `tungstenite` —
//! `tokio_tungstenite::accept_async` on a bare `TcpListener` and `client_async` on a
//! `TcpStream` (nodelay on both). Every message is sent with a flush (`send`) on both
//! stacks. The servers run on one current-thread runtime pinned to core 0, the clients on
//! one pinned to core 1.
//!
//! The same cells with permessage-deflate (rows `<cell>+deflate`, `BENCH_CELLS` names
//! them so too; `BENCH_DEFLATE=0` skips them, `=only` runs only them): httpstack with its
//! default settings (level 1, context takeover) against `yawc` (its server through
//! hyper's upgrade, its client; level 1, context takeover, the same zlib-rs backend),
//! with JSON-like text payloads (16 B to 1 MiB, about 5:1 compressible) rather than one
//! repeated byte. Python `websockets` would be the slower peer by far, so yawc is it.
//!
//! A sending cell ends with a `done` message the server answers with its count, so only
//! messages the server received are counted. Traffic goes to 127.0.0.1 only; every loop
//! ends at its deadline.
//!
//! Besides the rates, each cell prints the server's CPU time per message (user and
//! system of the server thread, from `/proc/self/task/<tid>/stat`, while that stack's
//! rounds ran) and its ratio (the peer's ÷ httpstack's: above 1 means httpstack spends
//! less), then the same for the whole process (client and server together). On a shared
//! machine the CPU times are steadier than the rates, which also move with how often each
//! end sleeps and is woken.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use httpstack::ws::{self, Message, WebSocket};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite;

#[path = "load_support/mod.rs"]
mod load_support;

use load_support::process_cpu;

const DEFAULT_SECS: u64 = 3;
const ROUNDS: u32 = 3;

#[derive(Clone, Copy, Debug)]
enum Cell {
    Send16,
    Push16,
    Send4k,
    Echo64k,
    Send1m,
}

impl Cell {
    const ALL: [Cell; 5] = [
        Cell::Send16,
        Cell::Push16,
        Cell::Send4k,
        Cell::Echo64k,
        Cell::Send1m,
    ];

    fn name(self) -> &'static str {
        match self {
            Cell::Send16 => "send_16b",
            Cell::Push16 => "push_16b",
            Cell::Send4k => "send_4k",
            Cell::Echo64k => "echo_64k",
            Cell::Send1m => "send_1m",
        }
    }

    fn size(self) -> usize {
        match self {
            Cell::Send16 | Cell::Push16 => 16,
            Cell::Send4k => 4 << 10,
            Cell::Echo64k => 64 << 10,
            Cell::Send1m => 1 << 20,
        }
    }

    /// Messages/s for the small cells, MB/s for the others.
    fn per_message(self) -> bool {
        matches!(self, Cell::Send16 | Cell::Push16)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stack {
    Httpstack,
    Tungstenite,
    /// httpstack with permessage-deflate.
    HttpstackDeflate,
    /// yawc with permessage-deflate.
    Yawc,
}

impl Stack {
    fn compressed(self) -> bool {
        matches!(self, Stack::HttpstackDeflate | Stack::Yawc)
    }
}

/// A deterministic JSON-like text of `size` bytes: field names repeat, values vary, so
/// it compresses about 5:1 as real JSON does.
fn json_text(size: usize) -> String {
    let mut text = String::with_capacity(size + 64);
    let mut state = 0x2545_f491_u32;
    let mut i = 0u32;
    while text.len() < size {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        text.push_str(&format!(
            r#"{{"id":{i},"price":{}.{:02},"qty":{},"side":"{}"}},"#,
            state % 10_000,
            state % 100,
            (state >> 8) % 500,
            if state & 1 == 0 { "buy" } else { "sell" }
        ));
        i += 1;
    }
    text.truncate(size);
    text
}

/// The server's commands, as the first text message of a connection:
/// `sink` (count until `done`, answer the count), `push SIZE MILLIS MAX` (send until the
/// deadline or MAX messages, then `end`), `echo` (send every message back).
fn command(cell: Cell, millis: u128, max: u64) -> String {
    match cell {
        Cell::Push16 => format!("push {} {millis} {max}", cell.size()),
        Cell::Echo64k => "echo".to_owned(),
        _ => "sink".to_owned(),
    }
}

fn payload(cell: Cell, compressed: bool) -> Message {
    if cell.size() == 16 {
        Message::from("0123456789abcdef")
    } else if compressed {
        Message::from(Bytes::from(json_text(cell.size())))
    } else {
        Message::from(Bytes::from(vec![0x5a; cell.size()]))
    }
}

// ---------------------------------------------------------------------------------------
// Servers.

async fn httpstack_server() -> ws::WsServer {
    ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        let command = ws.receive().await?;
        let command = command.as_text().unwrap_or("").to_owned();
        let mut words = command.split(' ');
        match words.next() {
            Some("sink") => {
                let mut count = 0u64;
                loop {
                    let message = ws.receive().await?;
                    if message.as_text() == Some("done") {
                        return ws.send(count.to_string()).await;
                    }
                    count += 1;
                }
            }
            Some("push") => {
                let size: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(16);
                let millis: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                let max: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                let message = Message::from("x".repeat(size));
                let deadline = Instant::now() + Duration::from_millis(millis);
                let mut sent = 0;
                while Instant::now() < deadline && sent < max {
                    for _ in 0..64 {
                        ws.send(message.clone()).await?;
                    }
                    sent += 64;
                }
                ws.send("end").await?;
                let _ = ws.receive().await;
                Ok(())
            }
            _ => loop {
                let message = ws.receive().await?;
                ws.send(message).await?;
            },
        }
    })
    .await
    .expect("httpstack server")
}

async fn tungstenite_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let Some(Ok(tungstenite::Message::Text(command))) = ws.next().await else {
                    return;
                };
                let mut words = command.as_str().split(' ');
                match words.next() {
                    Some("sink") => {
                        let mut count = 0u64;
                        while let Some(Ok(message)) = ws.next().await {
                            match message {
                                tungstenite::Message::Text(t) if t.as_str() == "done" => {
                                    let _ = ws
                                        .send(tungstenite::Message::Text(count.to_string().into()))
                                        .await;
                                    break;
                                }
                                tungstenite::Message::Text(_) | tungstenite::Message::Binary(_) => {
                                    count += 1
                                }
                                _ => {}
                            }
                        }
                    }
                    Some("push") => {
                        let size: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(16);
                        let millis: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                        let max: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                        let text: tungstenite::Utf8Bytes = "x".repeat(size).into();
                        let deadline = Instant::now() + Duration::from_millis(millis);
                        let mut sent = 0;
                        while Instant::now() < deadline && sent < max {
                            sent += 64;
                            for _ in 0..64 {
                                if ws
                                    .send(tungstenite::Message::Text(text.clone()))
                                    .await
                                    .is_err()
                                {
                                    return;
                                }
                            }
                        }
                        let _ = ws.send(tungstenite::Message::Text("end".into())).await;
                        let _ = ws.next().await;
                    }
                    _ => {
                        while let Some(Ok(message)) = ws.next().await {
                            let data = message.is_text() || message.is_binary();
                            if data && ws.send(message).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// yawc's options on both ends: level 1 as httpstack's default, messages up to 16 MiB.
fn yawc_options() -> yawc::Options {
    yawc::Options::default()
        .with_compression_level(yawc::CompressionLevel::new(1))
        .with_limits(16 << 20, 32 << 20)
        .with_no_delay()
}

fn yawc_text(text: &str) -> yawc::Frame {
    yawc::Frame::text(Bytes::copy_from_slice(text.as_bytes()))
}

/// yawc's server: hyper's HTTP/1.1 connection with yawc's upgrade, the same commands.
async fn yawc_server() -> SocketAddr {
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let service = service_fn(|mut req: http::Request<hyper::body::Incoming>| async move {
                let (response, upgrade) =
                    yawc::WebSocket::upgrade_with_options(&mut req, yawc_options())
                        .expect("yawc upgrade");
                tokio::spawn(async move {
                    if let Ok(ws) = upgrade.await {
                        yawc_session(ws).await;
                    }
                });
                Ok::<_, std::convert::Infallible>(response)
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

async fn yawc_session(mut ws: yawc::HttpWebSocket) {
    use yawc::OpCode;
    let Some(first) = ws.next().await else {
        return;
    };
    let command = String::from_utf8_lossy(first.payload()).into_owned();
    let mut words = command.split(' ');
    match words.next() {
        Some("sink") => {
            let mut count = 0u64;
            while let Some(frame) = ws.next().await {
                match frame.opcode() {
                    OpCode::Text if frame.payload().as_ref() == b"done" => {
                        let _ = ws.send(yawc_text(&count.to_string())).await;
                        break;
                    }
                    OpCode::Text | OpCode::Binary => count += 1,
                    OpCode::Close => break,
                    _ => {}
                }
            }
        }
        Some("push") => {
            let size: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(16);
            let millis: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
            let max: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
            let text = Bytes::from("x".repeat(size));
            let deadline = Instant::now() + Duration::from_millis(millis);
            let mut sent = 0;
            while Instant::now() < deadline && sent < max {
                sent += 64;
                for _ in 0..64 {
                    if ws.send(yawc::Frame::text(text.clone())).await.is_err() {
                        return;
                    }
                }
            }
            let _ = ws.send(yawc_text("end")).await;
            let _ = ws.next().await;
        }
        _ => {
            while let Some(frame) = ws.next().await {
                let data = matches!(frame.opcode(), OpCode::Text | OpCode::Binary);
                if frame.opcode() == OpCode::Close || (data && ws.send(frame).await.is_err()) {
                    break;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Clients.

/// What a cell needs of a client connection.
trait Conn {
    async fn send(&mut self, message: Message);
    /// The next data message (text or binary).
    async fn receive(&mut self) -> Message;
}

impl Conn for WebSocket {
    async fn send(&mut self, message: Message) {
        WebSocket::send(self, message)
            .await
            .expect("httpstack send");
    }

    async fn receive(&mut self) -> Message {
        WebSocket::receive(self).await.expect("httpstack receive")
    }
}

struct Raw(tokio_tungstenite::WebSocketStream<TcpStream>);

impl Conn for Raw {
    async fn send(&mut self, message: Message) {
        let message = match message {
            Message::Text(t) => tungstenite::Message::Text(t),
            Message::Binary(b) => tungstenite::Message::Binary(b),
        };
        self.0.send(message).await.expect("tungstenite send");
    }

    async fn receive(&mut self) -> Message {
        loop {
            match self.0.next().await {
                Some(Ok(tungstenite::Message::Text(t))) => return Message::Text(t),
                Some(Ok(tungstenite::Message::Binary(b))) => return Message::Binary(b),
                Some(Ok(_)) => {}
                other => panic!("tungstenite receive: {other:?}"),
            }
        }
    }
}

struct Yawc(yawc::WebSocket<yawc::MaybeTlsStream<TcpStream>>);

impl Conn for Yawc {
    async fn send(&mut self, message: Message) {
        let frame = match message {
            Message::Text(t) => yawc::Frame::text(Bytes::from(t)),
            Message::Binary(b) => yawc::Frame::binary(b),
        };
        self.0.send(frame).await.expect("yawc send");
    }

    async fn receive(&mut self) -> Message {
        loop {
            let frame = self.0.next().await.expect("yawc receive");
            match frame.opcode() {
                yawc::OpCode::Text => {
                    let text = String::from_utf8(frame.into_payload().to_vec()).expect("utf-8");
                    return Message::from(text);
                }
                yawc::OpCode::Binary => return Message::Binary(frame.into_payload()),
                yawc::OpCode::Close => panic!("yawc receive: closed"),
                _ => {}
            }
        }
    }
}

/// Runs one cell for `time`, or until `max` messages, on `conn`; returns (messages,
/// bytes, elapsed).
async fn run_cell<C: Conn>(
    conn: &mut C,
    cell: Cell,
    compressed: bool,
    time: Duration,
    max: u64,
) -> (u64, u64, Duration) {
    let started = Instant::now();
    let deadline = started + time;
    conn.send(Message::from(command(cell, time.as_millis(), max)))
        .await;
    let size = cell.size() as u64;
    let message = payload(cell, compressed);
    let messages = match cell {
        Cell::Push16 => {
            let mut count = 0;
            loop {
                let got = conn.receive().await;
                if got.as_text() == Some("end") {
                    break count;
                }
                count += 1;
            }
        }
        Cell::Echo64k => {
            let mut count = 0;
            while Instant::now() < deadline && count < max {
                conn.send(message.clone()).await;
                let echoed = conn.receive().await;
                assert_eq!(echoed.len() as u64, size);
                count += 1;
            }
            count
        }
        _ => {
            let mut sent = 0u64;
            while Instant::now() < deadline && sent < max {
                for _ in 0..16 {
                    conn.send(message.clone()).await;
                }
                sent += 16;
            }
            conn.send(Message::from("done")).await;
            let counted: u64 = conn
                .receive()
                .await
                .as_text()
                .and_then(|t| t.parse().ok())
                .expect("count");
            assert_eq!(counted, sent, "server counted every message");
            counted
        }
    };
    let elapsed = started.elapsed();
    (messages, messages * size, elapsed)
}

async fn client_cell(
    stack: Stack,
    addr: SocketAddr,
    cell: Cell,
    time: Duration,
) -> (u64, u64, Duration) {
    let max = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX);
    let url = format!("ws://{addr}/bench");
    let compressed = stack.compressed();
    match stack {
        Stack::Httpstack | Stack::HttpstackDeflate => {
            let mut ws = ws::connect(&url)
                .permessage_deflate(compressed)
                .await
                .expect("open");
            assert_eq!(
                ws.extensions().is_some(),
                compressed,
                "{:?}",
                ws.extensions()
            );
            let result = run_cell(&mut ws, cell, compressed, time, max).await;
            let _ = ws.close(1000, "").await;
            result
        }
        Stack::Tungstenite => {
            let tcp = TcpStream::connect(addr).await.expect("connect");
            tcp.set_nodelay(true).expect("nodelay");
            let (stream, _) = tokio_tungstenite::client_async(&url, tcp)
                .await
                .expect("handshake");
            let mut raw = Raw(stream);
            let result = run_cell(&mut raw, cell, false, time, max).await;
            let _ = raw.0.close(None).await;
            result
        }
        Stack::Yawc => {
            let url = url.parse().expect("url");
            let ws = yawc::WebSocket::connect(url)
                .with_options(yawc_options())
                .await
                .expect("yawc connect");
            let mut ws = Yawc(ws);
            let result = run_cell(&mut ws, cell, true, time, max).await;
            let _ = ws.0.close().await;
            result
        }
    }
}

/// The server thread's CPU time (user and system): `/proc/self/task/<tid>/stat`.
fn thread_cpu(stat: &str) -> Duration {
    let Ok(stat) = std::fs::read_to_string(stat) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map_or(Vec::new(), |(_, rest)| rest.split(' ').collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn pin(core: usize) {
    if let Some(ids) = core_affinity::get_core_ids() {
        if let Some(id) = ids.get(core % ids.len().max(1)) {
            core_affinity::set_for_current(*id);
        }
    }
}

fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SECS);
    let round =
        Duration::from_millis(secs * 1000 / u64::from(ROUNDS)).max(Duration::from_millis(200));

    // Servers: one current-thread runtime on core 0, running until the process ends.
    let (addrs_tx, addrs_rx) = mpsc::channel();
    thread::spawn(move || {
        pin(0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        // This thread's stat file, for its CPU time.
        let stat = std::fs::read_link("/proc/thread-self")
            .map(|task| format!("/proc/{}/stat", task.display()))
            .unwrap_or_default();
        rt.block_on(async move {
            let ours = httpstack_server().await;
            let raw = tungstenite_server().await;
            let yawc = yawc_server().await;
            addrs_tx
                .send((ours.local_addr(), raw, yawc, stat))
                .expect("send addrs");
            std::future::pending::<()>().await;
        });
    });
    let (ours, raw, yawc, server_stat) = addrs_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("servers up");
    // BENCH_MIX=client: httpstack's client against the raw server, to tell the client's
    // share from the server's.
    let ours = match std::env::var("BENCH_MIX").as_deref() {
        Ok("client") => raw,
        _ => ours,
    };

    pin(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    println!("ws_load: {ROUNDS} rounds x {round:?} per stack per cell");
    println!(
        "{:<15} {:>14} {:>14} {:>7} | {:>11} {:>11} {:>6} | {:>11} {:>11} {:>6}",
        "cell",
        "httpstack",
        "peer",
        "rate",
        "server ours",
        "server peer",
        "ratio",
        "proc ours",
        "proc peer",
        "ratio"
    );
    let deflate = std::env::var("BENCH_DEFLATE").unwrap_or_default();
    let pairs: Vec<(Stack, SocketAddr, Stack, SocketAddr)> = match deflate.as_str() {
        "0" => vec![(Stack::Httpstack, ours, Stack::Tungstenite, raw)],
        "only" => vec![(Stack::HttpstackDeflate, ours, Stack::Yawc, yawc)],
        _ => vec![
            (Stack::Httpstack, ours, Stack::Tungstenite, raw),
            (Stack::HttpstackDeflate, ours, Stack::Yawc, yawc),
        ],
    };
    rt.block_on(async {
        // Warm-up: every cell once, briefly, on every stack (`BENCH_WARMUP=0`: none, for
        // a profiler to see the measured cells only).
        let warm_up = std::env::var("BENCH_WARMUP").as_deref() != Ok("0");
        for cell in Cell::ALL.into_iter().filter(|_| warm_up) {
            for &(a, addr_a, b, addr_b) in &pairs {
                for (stack, addr) in [(a, addr_a), (b, addr_b)] {
                    client_cell(stack, addr, cell, Duration::from_millis(100)).await;
                }
            }
        }
        let only = std::env::var("BENCH_CELLS").unwrap_or_default();
        let only_stack = match std::env::var("BENCH_STACK").as_deref() {
            Ok("httpstack") => Some(0),
            Ok("tungstenite" | "yawc" | "peer") => Some(1),
            _ => None,
        };
        for &(ours_stack, ours_addr, peer_stack, peer_addr) in &pairs {
            for cell in Cell::ALL {
                let name = if ours_stack.compressed() {
                    format!("{}+deflate", cell.name())
                } else {
                    cell.name().to_owned()
                };
                if !only.is_empty() && !only.split(',').any(|c| c == name) {
                    continue;
                }
                let mut totals = [(0u64, 0u64, Duration::ZERO); 2];
                let mut cpu = [Duration::ZERO; 2];
                let mut server_cpu = [Duration::ZERO; 2];
                for r in 0..ROUNDS {
                    // Alternate which stack goes first.
                    let order = if r % 2 == 0 { [0, 1] } else { [1, 0] };
                    for i in order
                        .into_iter()
                        .filter(|&i| only_stack.is_none_or(|s| s == i))
                    {
                        let (stack, addr) = if i == 0 {
                            (ours_stack, ours_addr)
                        } else {
                            (peer_stack, peer_addr)
                        };
                        let cpu_before = process_cpu(None);
                        let server_before = thread_cpu(&server_stat);
                        let (m, b, t) = client_cell(stack, addr, cell, round).await;
                        cpu[i] += process_cpu(None).saturating_sub(cpu_before);
                        server_cpu[i] += thread_cpu(&server_stat).saturating_sub(server_before);
                        totals[i].0 += m;
                        totals[i].1 += b;
                        totals[i].2 += t;
                    }
                }
                let rate = |(m, b, t): (u64, u64, Duration)| {
                    if cell.per_message() {
                        m as f64 / t.as_secs_f64()
                    } else {
                        b as f64 / 1e6 / t.as_secs_f64()
                    }
                };
                if std::env::var_os("BENCH_VERBOSE").is_some() {
                    println!(
                        "  messages: httpstack {}, {peer_stack:?} {}",
                        totals[0].0, totals[1].0
                    );
                }
                let (a, b) = (rate(totals[0]), rate(totals[1]));
                let unit = if cell.per_message() { "msg/s" } else { "MB/s" };
                let per_message = |cpu: &[Duration; 2], i: usize| {
                    cpu[i].as_secs_f64() * 1e6 / totals[i].0.max(1) as f64
                };
                let (srv_a, srv_b) = (per_message(&server_cpu, 0), per_message(&server_cpu, 1));
                let (cpu_a, cpu_b) = (per_message(&cpu, 0), per_message(&cpu, 1));
                println!(
                    "{:<15} {:>8.0} {:<5} {:>8.0} {:<5} {:>6.2}x | {:>8.2} µs {:>8.2} µs {:>5.2}x \
                     | {:>8.2} µs {:>8.2} µs {:>5.2}x",
                    name,
                    a,
                    unit,
                    b,
                    unit,
                    a / b,
                    srv_a,
                    srv_b,
                    srv_b / srv_a,
                    cpu_a,
                    cpu_b,
                    cpu_b / cpu_a
                );
            }
        }
    });
}
