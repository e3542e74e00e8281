//! WebSockets against Python's `websockets` library, a real third-party peer: it as the
//! client of httpstack's server, and as the server for httpstack's client — echo,
//! fragments, binary, pings both ways, close codes both ways. `websockets` negotiates
//! permessage-deflate by default (with 12-bit windows), so all of it runs compressed;
//! both sides check that it was agreed, and a run with ours off checks it is declined.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use httpstack::ws::{self, Message, WebSocket};
use httpstack::CloseFrame;
use support::python_peers::{python_with_websockets, Script};
use support::within;
use tokio::sync::mpsc;

/// A websockets server: echoes, except on a few paths that test one behaviour each.
const PY_SERVER: &str = r#"
import asyncio
from websockets.asyncio.server import serve

async def handler(ws):
    path = ws.request.path
    if path == "/extensions":
        await ws.send(str(ws.response.headers.get("Sec-WebSocket-Extensions")))
    elif path == "/fragments":
        await ws.send(["frag", "men", "ted"])
        await ws.send([b"\x01", b"\x02\x03"])
    elif path == "/ping":
        waiter = await ws.ping(b"from python")
        await asyncio.wait_for(waiter, 5)
        await ws.send("pong received")
    elif path == "/close":
        code = int(await ws.recv())
        await ws.close(code, "python closes")
        return
    async for message in ws:
        await ws.send(message)

async def main():
    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"READY {port}", flush=True)
        await asyncio.get_running_loop().create_future()

asyncio.run(main())
"#;

/// A websockets client run against our server; prints what it saw, one line each.
const PY_CLIENT: &str = r#"
import asyncio, sys
from websockets.asyncio.client import connect

async def main(url):
    async with connect(url, max_size=None) as ws:
        print("extensions", ws.response.headers.get("Sec-WebSocket-Extensions"), flush=True)
        await ws.send("hello")
        print("text", await ws.recv(), flush=True)
        await ws.send(b"\x00\x01\xff")
        print("binary", (await ws.recv()).hex(), flush=True)
        await ws.send(["frag-", "mented"])
        print("fragments", await ws.recv(), flush=True)
        big = "x" * 1_000_000
        await ws.send(big)
        print("big", len(await ws.recv()) == len(big), flush=True)
        waiter = await ws.ping(b"py")
        await asyncio.wait_for(waiter, 5)
        print("pong", "ok", flush=True)
        await ws.close(4321, "python bye")
        print("closed", ws.close_code, flush=True)

asyncio.run(main(sys.argv[1]))
"#;

#[tokio::test]
async fn python_client_against_our_server() {
    let Some(python) = python_with_websockets() else {
        return;
    };
    let (closes_tx, mut closes_rx) = mpsc::unbounded_channel::<Option<CloseFrame>>();
    let server = ws::listen("127.0.0.1:0", move |mut ws: WebSocket| {
        let closes_tx = closes_tx.clone();
        async move {
            loop {
                match ws.receive().await {
                    Ok(message) => ws.send(message).await?,
                    Err(err) => {
                        let _ = closes_tx.send(err.close_frame().cloned());
                        return Ok(());
                    }
                }
            }
        }
    })
    .await
    .unwrap();
    let url = format!("ws://{}/echo", server.server_addr());
    let mut client = Script::spawn(&python, &["-c", PY_CLIENT, &url]);
    let lines = client.rest(Duration::from_secs(20)).await;
    let expected = [
        "extensions permessage-deflate",
        "text hello",
        "binary 0001ff",
        "fragments frag-mented",
        "big True",
        "pong ok",
        // The close code the client settled on: the echo of its own.
        "closed 4321",
    ];
    assert_eq!(lines, expected);
    let status = within("python exits", client.child.wait()).await.unwrap();
    assert!(status.success(), "python client: {status}");
    let frame = within("server saw the close", closes_rx.recv())
        .await
        .unwrap();
    assert_eq!(frame, Some(CloseFrame::new(4321, "python bye")));
    server.close().await;
}

#[tokio::test]
async fn our_client_against_python_server() {
    let Some(python) = python_with_websockets() else {
        return;
    };
    let mut py = Script::spawn(&python, &["-c", PY_SERVER]);
    let port = py.ready_port().await;
    let base = format!("ws://127.0.0.1:{port}");

    // permessage-deflate is agreed (websockets answers with 12-bit windows), and
    // declined when we do not offer it.
    let mut ws = within("open", ws::open(format!("{base}/extensions")))
        .await
        .unwrap();
    let agreed = ws.extensions().map(str::to_owned);
    assert!(
        agreed
            .as_deref()
            .is_some_and(|e| e.starts_with("permessage-deflate")),
        "{agreed:?}"
    );
    let said = within("python's view", ws.receive()).await.unwrap();
    assert_eq!(said.as_text(), agreed.as_deref());
    drop(ws);
    let mut ws = within(
        "open",
        ws::connect(format!("{base}/extensions")).permessage_deflate(false),
    )
    .await
    .unwrap();
    assert_eq!(ws.extensions(), None);
    let said = within("python's view", ws.receive()).await.unwrap();
    assert_eq!(said.as_text(), Some("None"));
    drop(ws);

    // Echo: text, binary, big, fragmented from our side.
    let mut ws = within("open", ws::open(format!("{base}/echo")))
        .await
        .unwrap();
    let cases: Vec<Message> = vec![
        Message::from("hello python"),
        Message::from(vec![0u8, 1, 2, 254, 255]),
        Message::from("ü".repeat(500_000)),
        Message::from(vec![9u8; 3 << 20]),
    ];
    for message in cases {
        ws.send(message.clone()).await.unwrap();
        let echoed = within("echo", ws.receive()).await.unwrap();
        assert_eq!(echoed, message, "case {} bytes", message.len());
    }
    ws.send_fragments(["our ", "frag", "ments"]).await.unwrap();
    assert_eq!(
        within("fragments echo", ws.receive())
            .await
            .unwrap()
            .as_text(),
        Some("our fragments")
    );
    // Our ping gets python's pong (skipped), and the connection carries on.
    ws.ping(&b"hi"[..]).await.unwrap();
    ws.send("after ping").await.unwrap();
    assert_eq!(
        within("after ping", ws.receive()).await.unwrap().as_text(),
        Some("after ping")
    );
    within("close", ws.close(1000, "done")).await.unwrap();
    assert_eq!(ws.close_frame().map(|f| f.code), Some(1000));

    // Python's fragmented messages arrive whole.
    let mut ws = ws::open(format!("{base}/fragments")).await.unwrap();
    assert_eq!(
        within("text fragments", ws.receive()).await.unwrap(),
        Message::from("fragmented")
    );
    assert_eq!(
        within("binary fragments", ws.receive()).await.unwrap(),
        Message::from(vec![1u8, 2, 3])
    );
    drop(ws);

    // Python pings us: answered automatically inside receive().
    let mut ws = ws::open(format!("{base}/ping")).await.unwrap();
    assert_eq!(
        within("ping answered", ws.receive())
            .await
            .unwrap()
            .as_text(),
        Some("pong received")
    );
    drop(ws);

    // Python closes with a code: a close error, ok only for normal codes; iteration ends
    // quietly on a normal close.
    for (code, ok) in [(1000u16, true), (1001, true), (4000, false), (1011, false)] {
        let mut ws = ws::open(format!("{base}/close")).await.unwrap();
        ws.send(code.to_string()).await.unwrap();
        let err = within("python close", ws.receive()).await.unwrap_err();
        assert_eq!(
            err.close_frame(),
            Some(&CloseFrame::new(code, "python closes")),
            "case {code}"
        );
        assert_eq!(err.is_ok(), ok, "case {code}");
    }
    let mut ws = ws::open(format!("{base}/close")).await.unwrap();
    ws.send("1000").await.unwrap();
    assert!(within("stream end", ws.next()).await.is_none());
}
