//! HTTP/2 by prior knowledge (h2c) from hyper's own client, for server tests.

use std::net::SocketAddr;

use hyper::client::conn::http2::{handshake, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::within;

/// An h2c connection to `addr`: the request sender and the task driving the connection
/// (await it to see how the connection ended). Connect and handshake are bounded.
pub async fn h2c_connect<B>(addr: SocketAddr) -> (SendRequest<B>, JoinHandle<hyper::Result<()>>)
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tcp = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    let (sender, conn) = within(
        "h2 handshake",
        handshake(TokioExecutor::new(), TokioIo::new(tcp)),
    )
    .await
    .expect("h2 handshake");
    (sender, tokio::spawn(conn))
}

/// An h2c connection to `addr` whose driving task runs on its own.
pub async fn h2c<B>(addr: SocketAddr) -> SendRequest<B>
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    h2c_connect(addr).await.0
}
