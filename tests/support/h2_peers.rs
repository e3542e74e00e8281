//! `httpstack::h2::Session` on real sockets, for the HTTP/2 peer tests: a server that
//! answers every request as the `h2_session_server` example does (h2c, or h2 over TLS by
//! ALPN), a client GET over an open session, and a TLS acceptor offering only `h2`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use httpstack::h2::{Action, Event, Headers, Role, Session};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::{within, TestCert};

/// The body every request gets from [`session_server`].
pub const BODY: &str = "hello from httpstack::h2\n";

/// A running Session server; aborted when dropped.
pub struct SessionServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for SessionServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TLS acceptor with `cert`, offering only `h2` by ALPN.
pub fn h2_acceptor(cert: &TestCert) -> tokio_rustls::TlsAcceptor {
    let config = httpstack::server::server_config_from_pem_bytes(
        cert.cert_pem.as_bytes(),
        cert.key_pem.as_bytes(),
    )
    .expect("TLS config");
    let mut config = (*config).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A server written only with `Session` on 127.0.0.1: 200 with `server`, `date`,
/// `content-type` and [`BODY`] for every request, once the request has ended.
pub async fn session_server(tls: Option<&TestCert>) -> SessionServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let acceptor = tls.map(h2_acceptor);
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    None => answer_all(tcp).await,
                    Some(acceptor) => {
                        if let Ok(tls) = acceptor.accept(tcp).await {
                            answer_all(tls).await
                        }
                    }
                }
            });
        }
    });
    SessionServer { addr, task }
}

async fn answer_all<T>(io: T)
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let session = Session::new(io, Role::Server);
    while let Some(event) = session.take_evt().await {
        let stream = match event {
            Event::RecvHeaders {
                stream,
                end_stream: true,
                ..
            }
            | Event::RecvData {
                stream,
                end_stream: true,
                ..
            } => stream,
            _ => continue,
        };
        let headers = Headers::from_iter([
            (":status", "200".to_string()),
            ("server", "httpstack-h2".to_string()),
            (
                "date",
                httpdate::fmt_http_date(std::time::SystemTime::now()),
            ),
            ("content-type", "text/plain".to_string()),
        ]);
        let _ = session.put_act(Action::SendHeaders {
            stream,
            headers,
            end_stream: false,
        });
        let _ = session.put_act(Action::SendData {
            stream,
            data: BODY.into(),
            end_stream: true,
        });
    }
}

/// A response as a client session saw it.
#[derive(Debug, Default)]
pub struct Fetched {
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// GETs `path` on an open client session; returns the response and every push that
/// arrived with it (promised stream → promise request headers and the pushed response).
pub async fn get(
    session: &Session,
    authority: &str,
    scheme: &str,
    path: &str,
) -> (Fetched, HashMap<u32, (Headers, Fetched)>) {
    let stream = session.next_free_stream_identifier();
    let headers = Headers::from_iter([
        (":method", "GET"),
        (":scheme", scheme),
        (":authority", authority),
        (":path", path),
        ("user-agent", "httpstack-h2-test"),
    ]);
    session
        .put_act(Action::SendHeaders {
            stream,
            headers,
            end_stream: true,
        })
        .expect("send request");
    let mut response = Fetched::default();
    let mut pushes: HashMap<u32, (Headers, Fetched)> = HashMap::new();
    let mut open = 1usize;
    within("response", async {
        while open > 0 {
            let event = session
                .take_evt()
                .await
                .expect("session ended before the response");
            match event {
                Event::Promise {
                    stream: s,
                    promised_stream,
                    headers,
                } if s == stream => {
                    pushes.insert(promised_stream, (headers, Fetched::default()));
                    open += 1;
                }
                Event::RecvHeaders {
                    stream: s,
                    headers,
                    end_stream,
                } => {
                    let target = if s == stream {
                        &mut response
                    } else {
                        &mut pushes.get_mut(&s).expect("pushed stream").1
                    };
                    target.headers = headers;
                    open -= usize::from(end_stream);
                }
                Event::RecvData {
                    stream: s,
                    data,
                    end_stream,
                } => {
                    let target = if s == stream {
                        &mut response
                    } else {
                        &mut pushes.get_mut(&s).expect("pushed stream").1
                    };
                    target.body.extend_from_slice(&data);
                    open -= usize::from(end_stream);
                }
                Event::Reset {
                    stream: s, code, ..
                } => panic!("stream {s} reset: {code}"),
                Event::Error(err) => panic!("connection error: {err}"),
                _ => {}
            }
        }
    })
    .await;
    (response, pushes)
}

/// The bytes of a body as text, for messages.
pub fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

/// Data of a pushed or plain body as `Bytes`.
pub fn bytes(body: &[u8]) -> Bytes {
    Bytes::copy_from_slice(body)
}
