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
//! hyper's upgrade) and `ws::open`; `tungstenite` — `tokio_tungstenite::accept_async` on
//! a bare `TcpListener` and `client_async` on a `TcpStream` (nodelay on both). Every
//! message is sent with a flush (`send`) on both stacks. The servers run on one
//! current-thread runtime pinned to core 0, the clients on one pinned to core 1.
//!
//! A sending cell ends with a `done` message the server answers with its count, so only
//! messages the server received are counted. Traffic goes to 127.0.0.1 only; every loop
//! ends at its deadline.
//!
//! Besides the rates, each cell prints the CPU time (user and system, of client and
//! server together: the process's, while that stack's rounds ran) per message, and its
//! ratio (tungstenite's ÷ httpstack's: above 1 means httpstack spends less). On a shared
//! machine it is steadier than the rates, which also move with how often each end sleeps
//! and is woken.

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

fn payload(cell: Cell) -> Message {
    if cell.size() == 16 {
        Message::from("0123456789abcdef")
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

/// Runs one cell for `time`, or until `max` messages, on `conn`; returns (messages,
/// bytes, elapsed).
async fn run_cell<C: Conn>(
    conn: &mut C,
    cell: Cell,
    time: Duration,
    max: u64,
) -> (u64, u64, Duration) {
    let started = Instant::now();
    let deadline = started + time;
    conn.send(Message::from(command(cell, time.as_millis(), max)))
        .await;
    let size = cell.size() as u64;
    let message = payload(cell);
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
    match stack {
        Stack::Httpstack => {
            let mut ws = ws::open(&url).await.expect("open");
            let result = run_cell(&mut ws, cell, time, max).await;
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
            let result = run_cell(&mut raw, cell, time, max).await;
            let _ = raw.0.close(None).await;
            result
        }
    }
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
        rt.block_on(async move {
            let ours = httpstack_server().await;
            let raw = tungstenite_server().await;
            addrs_tx.send((ours.local_addr(), raw)).expect("send addrs");
            std::future::pending::<()>().await;
        });
    });
    let (ours, raw) = addrs_rx
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
        "{:<10} {:>16} {:>16} {:>8} {:>12} {:>12} {:>8}",
        "cell", "httpstack", "tungstenite", "ratio", "cpu/msg ours", "cpu/msg raw", "ratio"
    );
    rt.block_on(async {
        // Warm-up: every cell once, briefly, on both stacks (`BENCH_WARMUP=0`: none, for
        // a profiler to see the measured cells only).
        let warm_up = std::env::var("BENCH_WARMUP").as_deref() != Ok("0");
        for cell in Cell::ALL.into_iter().filter(|_| warm_up) {
            for (stack, addr) in [(Stack::Httpstack, ours), (Stack::Tungstenite, raw)] {
                client_cell(stack, addr, cell, Duration::from_millis(100)).await;
            }
        }
        let only = std::env::var("BENCH_CELLS").unwrap_or_default();
        let only_stack = match std::env::var("BENCH_STACK").as_deref() {
            Ok("httpstack") => Some(0),
            Ok("tungstenite") => Some(1),
            _ => None,
        };
        for cell in Cell::ALL {
            if !only.is_empty() && !only.split(',').any(|c| c == cell.name()) {
                continue;
            }
            let mut totals = [(0u64, 0u64, Duration::ZERO); 2];
            let mut cpu = [Duration::ZERO; 2];
            for r in 0..ROUNDS {
                // Alternate which stack goes first.
                let order = if r % 2 == 0 { [0, 1] } else { [1, 0] };
                for i in order
                    .into_iter()
                    .filter(|&i| only_stack.is_none_or(|s| s == i))
                {
                    let (stack, addr) = if i == 0 {
                        (Stack::Httpstack, ours)
                    } else {
                        (Stack::Tungstenite, raw)
                    };
                    let cpu_before = process_cpu(None);
                    let (m, b, t) = client_cell(stack, addr, cell, round).await;
                    cpu[i] += process_cpu(None).saturating_sub(cpu_before);
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
                    "  messages: httpstack {}, tungstenite {}",
                    totals[0].0, totals[1].0
                );
            }
            let (a, b) = (rate(totals[0]), rate(totals[1]));
            let unit = if cell.per_message() { "msg/s" } else { "MB/s" };
            let per_message = |i: usize| cpu[i].as_secs_f64() * 1e6 / totals[i].0.max(1) as f64;
            let (cpu_a, cpu_b) = (per_message(0), per_message(1));
            println!(
                "{:<10} {:>10.0} {:<5} {:>10.0} {:<5} {:>7.2}x {:>9.2} µs {:>9.2} µs {:>7.2}x",
                cell.name(),
                a,
                unit,
                b,
                unit,
                a / b,
                cpu_a,
                cpu_b,
                cpu_b / cpu_a
            );
        }
    });
}
