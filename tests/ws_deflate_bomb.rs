//! A deflate bomb (RFC 7692 §8.1 warns of them): 1 GiB of zeros compressed to about
//! 1 MiB, sent as one message to httpstack's server and to httpstack's client, each with
//! the default 16 MiB `max_message_size`. The inflated size counts against the limit as
//! it grows: the connection closes with 1009, and the peak of this process's heap stays
//! a small multiple of the limit (a counting global allocator measures it; this file
//! holds one test so that nothing else allocates meanwhile).

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use httpstack::ws::{self, WebSocket, DEFAULT_MAX_MESSAGE_SIZE};
use support::within_for;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded to the system allocator with the caller's layout.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded to the system allocator with the caller's arguments.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size > layout.size() {
                let grown = new_size - layout.size();
                let now = IN_USE.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The uncompressed size of the bomb.
const BOMB: usize = 1 << 30;

/// 1 GiB of zeros as one permessage-deflate message (raw DEFLATE, sync flush, the tail
/// dropped), compressed from a 1 MiB buffer so the bomb itself is never in memory.
fn bomb() -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(2 << 20);
    for i in 0..BOMB / zeros.len() {
        let flush = if i + 1 == BOMB / zeros.len() {
            flate2::FlushCompress::Sync
        } else {
            flate2::FlushCompress::None
        };
        let mut input = &zeros[..];
        loop {
            let before = compress.total_in();
            out.reserve(64 << 10);
            compress.compress_vec(input, &mut out, flush).unwrap();
            input = &input[(compress.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

/// A frame header for `len` payload bytes (`masked`: with a zero mask).
fn frame_head(first: u8, len: usize, masked: bool) -> Vec<u8> {
    let bit = if masked { 0x80 } else { 0 };
    let mut head = vec![first, bit | 127];
    head.extend_from_slice(&(len as u64).to_be_bytes());
    if masked {
        head.extend_from_slice(&[0, 0, 0, 0]);
    }
    head
}

/// Reads frames until a close frame; its code.
async fn close_code(conn: &mut BufReader<TcpStream>) -> u16 {
    for _ in 0..100 {
        let mut head = [0u8; 2];
        conn.read_exact(&mut head).await.unwrap();
        let len = match head[1] & 0x7f {
            126 => {
                let mut n = [0u8; 2];
                conn.read_exact(&mut n).await.unwrap();
                u16::from_be_bytes(n) as usize
            }
            127 => {
                let mut n = [0u8; 8];
                conn.read_exact(&mut n).await.unwrap();
                u64::from_be_bytes(n) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        conn.read_exact(&mut payload).await.unwrap();
        if head[0] & 0x0f == 0x8 {
            return u16::from_be_bytes([payload[0], payload[1]]);
        }
    }
    panic!("no close frame in 100 frames");
}

/// Runs `f`, returning how far the heap's peak rose above where it stood before.
async fn peak_during<F: std::future::Future<Output = ()>>(f: F) -> usize {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f.await;
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflate_bomb_stops_at_the_limit_both_ways() {
    let wait = Duration::from_secs(60);
    let bomb = bomb();
    println!("bomb: {BOMB} zero bytes compressed to {} bytes", bomb.len());
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let limit = DEFAULT_MAX_MESSAGE_SIZE;

    // Our server, a raw client sending the bomb.
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = ws::listen("127.0.0.1:0", move |mut ws: WebSocket| {
        let seen_tx = seen_tx.clone();
        async move {
            let got = ws.receive().await;
            let _ = seen_tx.send(got.map(|m| m.len()).map_err(|e| e.close_frame().cloned()));
            Ok(())
        }
    })
    .await
    .unwrap();
    let addr = server.local_addr();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut conn = BufReader::new(tcp);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
    );
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        assert!(conn.read_line(&mut head).await.unwrap() > 0, "{head}");
    }
    assert!(head.contains("permessage-deflate"), "{head}");
    let mut frame = frame_head(0xc2, bomb.len(), true);
    frame.extend_from_slice(&bomb);
    let server_peak = peak_during(async {
        conn.get_mut().write_all(&frame).await.unwrap();
        let code = within_for(wait, "the server's close", close_code(&mut conn)).await;
        assert_eq!(code, 1009);
        let seen = within_for(wait, "the handler", seen_rx.recv())
            .await
            .unwrap();
        assert_eq!(seen.unwrap_err().map(|f| f.code), Some(1009));
    })
    .await;
    drop(frame);
    server.force_close();

    // Our client, a raw server sending the bomb.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut frame = frame_head(0xc2, bomb.len(), false);
    frame.extend_from_slice(&bomb);
    let fake = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut conn = BufReader::new(tcp);
        let mut key = String::new();
        for _ in 0..100 {
            let mut line = String::new();
            if conn.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("sec-websocket-key") {
                    key = value.trim().to_owned();
                }
            }
        }
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
        );
        conn.get_mut().write_all(head.as_bytes()).await.unwrap();
        conn.get_mut().write_all(&frame).await.unwrap();
        // The client's close frame (masked) comes back.
        let mut back = [0u8; 2];
        conn.read_exact(&mut back).await.unwrap();
        back[0]
    });
    let mut ws = within_for(wait, "open", ws::open(format!("ws://{addr}/")))
        .await
        .unwrap();
    assert_eq!(ws.extensions(), Some("permessage-deflate"));
    let client_peak = peak_during(async {
        let err = within_for(wait, "the bomb", ws.receive())
            .await
            .unwrap_err();
        assert_eq!(err.close_frame().map(|f| f.code), Some(1009), "{err}");
    })
    .await;
    let back = within_for(wait, "the close frame", fake).await.unwrap();
    assert_eq!(back, 0x88);
    println!(
        "peak heap growth while inflating: server {server_peak} bytes, client {client_peak} \
         bytes (limit {limit})"
    );
    // The limit, the compressed frame in the read buffer, and change.
    assert!(server_peak < limit + (8 << 20), "server peak {server_peak}");
    assert!(client_peak < limit + (8 << 20), "client peak {client_peak}");
}
