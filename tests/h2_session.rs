//! `httpstack::h2::Session` against itself in memory (`tokio::io::duplex`): requests and
//! responses, trailers, push, ping, settings, flow control with 1,000 concurrent streams
//! whose bodies exceed the initial window (every byte checked), and close.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use httpstack::h2::{Action, ErrorCode, Event, Headers, Role, Session};

mod support;
use support::{within, within_for};

fn request(path: &str) -> Headers {
    Headers::from_iter([
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "localhost"),
        (":path", path),
    ])
}

fn pattern(stream: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((stream as usize * 31 + i) % 251) as u8)
        .collect()
}

fn pair() -> (Session, Session) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (Session::new(a, Role::Client), Session::new(b, Role::Server))
}

/// The next event that is not SETTINGS or a ping answer.
async fn next(session: &Session) -> Event {
    loop {
        match within("event", session.take_evt()).await {
            Some(Event::Settings(_)) | Some(Event::PingAck(_)) => continue,
            Some(event) => return event,
            None => panic!("session ended"),
        }
    }
}

#[tokio::test]
async fn request_response_with_trailers() {
    let (client, server) = pair();
    let id = client.next_free_stream_identifier();
    assert_eq!(id, 1);
    client
        .put_act(Action::SendHeaders {
            stream: id,
            headers: request("/a"),
            end_stream: false,
        })
        .unwrap();
    client
        .put_act(Action::SendData {
            stream: id,
            data: Bytes::from_static(b"body"),
            end_stream: false,
        })
        .unwrap();
    client
        .put_act(Action::SendHeaders {
            stream: id,
            headers: Headers::from_iter([("x-checksum", "42")]),
            end_stream: true,
        })
        .unwrap();
    let Event::RecvHeaders {
        stream,
        headers,
        end_stream: false,
    } = next(&server).await
    else {
        panic!("request headers")
    };
    assert_eq!((stream, headers.get(":path")), (1, Some("/a")));
    let Event::RecvData {
        data,
        end_stream: false,
        ..
    } = next(&server).await
    else {
        panic!("request data")
    };
    assert_eq!(&data[..], b"body");
    let Event::RecvHeaders {
        headers,
        end_stream: true,
        ..
    } = next(&server).await
    else {
        panic!("request trailers")
    };
    assert_eq!(headers.get("x-checksum"), Some("42"));

    let mut response = Headers::from_iter([(":status", "200"), ("server", "httpstack")]);
    response.push_sensitive("set-cookie", "secret=1");
    server
        .put_act(Action::SendHeaders {
            stream: 1,
            headers: response,
            end_stream: true,
        })
        .unwrap();
    let Event::RecvHeaders {
        stream: 1,
        headers,
        end_stream: true,
    } = next(&client).await
    else {
        panic!("response")
    };
    assert_eq!(headers.get(":status"), Some("200"));
    let cookie = headers.iter().find(|f| f.name == "set-cookie").unwrap();
    assert!(cookie.sensitive, "never-indexed survives the wire");
    client.close().await;
    assert!(within("server end", server.take_evt())
        .await
        .is_some_and(|e| matches!(
            e,
            Event::GoAway {
                code: ErrorCode::NO_ERROR,
                ..
            }
        )));
}

#[tokio::test]
async fn ping_settings_and_push() {
    let (client, server) = pair();
    client.put_act(Action::Ping(*b"12345678")).unwrap();
    loop {
        if let Some(Event::PingAck(d)) = within("ping", client.take_evt()).await {
            assert_eq!(&d, b"12345678");
            break;
        }
    }
    let id = client.next_free_stream_identifier();
    client
        .put_act(Action::SendHeaders {
            stream: id,
            headers: request("/"),
            end_stream: true,
        })
        .unwrap();
    let Event::RecvHeaders { stream, .. } = next(&server).await else {
        panic!("request")
    };
    let promised = server.next_free_stream_identifier();
    assert_eq!(promised, 2);
    server
        .put_act(Action::Promise {
            stream,
            promised_stream: promised,
            headers: request("/style.css"),
        })
        .unwrap();
    server
        .put_act(Action::SendHeaders {
            stream,
            headers: Headers::from_iter([(":status", "200")]),
            end_stream: false,
        })
        .unwrap();
    server
        .put_act(Action::SendData {
            stream,
            data: "<html>".into(),
            end_stream: true,
        })
        .unwrap();
    server
        .put_act(Action::SendHeaders {
            stream: promised,
            headers: Headers::from_iter([(":status", "200")]),
            end_stream: false,
        })
        .unwrap();
    server
        .put_act(Action::SendData {
            stream: promised,
            data: "body{}".into(),
            end_stream: true,
        })
        .unwrap();

    let Event::Promise {
        stream: 1,
        promised_stream: 2,
        headers,
    } = next(&client).await
    else {
        panic!("promise")
    };
    assert_eq!(headers.get(":path"), Some("/style.css"));
    let mut bodies: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut ended = 0;
    while ended < 2 {
        match next(&client).await {
            Event::RecvHeaders { headers, .. } => assert_eq!(headers.get(":status"), Some("200")),
            Event::RecvData {
                stream,
                data,
                end_stream,
            } => {
                bodies.entry(stream).or_default().extend_from_slice(&data);
                ended += usize::from(end_stream);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(bodies[&1], b"<html>");
    assert_eq!(bodies[&2], b"body{}");
}

#[tokio::test]
async fn action_errors_are_events() {
    let (client, _server) = pair();
    client
        .put_act(Action::SendData {
            stream: 1,
            data: "x".into(),
            end_stream: true,
        })
        .unwrap();
    assert!(matches!(
        next(&client).await,
        Event::ActionFailed { stream: 1, .. }
    ));
    client
        .put_act(Action::SendHeaders {
            stream: 3,
            headers: request("/"),
            end_stream: true,
        })
        .unwrap();
    client
        .put_act(Action::SendHeaders {
            stream: 1,
            headers: request("/"),
            end_stream: true,
        })
        .unwrap();
    assert!(
        matches!(next(&client).await, Event::ActionFailed { stream: 1, .. }),
        "ids out of order"
    );
}

/// 1,000 concurrent streams, each sending 70,000 bytes (over the 65,535-byte initial
/// window) and receiving 70,000 back: every byte checked, no stream lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_streams_beyond_the_window() {
    const STREAMS: u32 = 1000;
    const LEN: usize = 70_000;
    let (a, b) = tokio::io::duplex(256 * 1024);
    let client = std::sync::Arc::new(Session::new(a, Role::Client));
    let server = Session::builder(Role::Server)
        .max_concurrent_streams(STREAMS)
        .build(b);

    let server_task = tokio::spawn(async move {
        let mut received: HashMap<u32, Vec<u8>> = HashMap::new();
        let mut done = 0;
        while done < STREAMS {
            match server.take_evt().await.expect("server event") {
                Event::RecvHeaders {
                    stream, headers, ..
                } => {
                    assert_eq!(headers.get(":method"), Some("POST"));
                    received.insert(stream, Vec::with_capacity(LEN));
                }
                Event::RecvData {
                    stream,
                    data,
                    end_stream,
                } => {
                    let body = received.get_mut(&stream).expect("known stream");
                    body.extend_from_slice(&data);
                    if end_stream {
                        assert!(
                            *body == pattern(stream, LEN),
                            "request body of stream {stream}"
                        );
                        server
                            .put_act(Action::SendHeaders {
                                stream,
                                headers: Headers::from_iter([(":status", "200")]),
                                end_stream: false,
                            })
                            .unwrap();
                        server
                            .put_act(Action::SendData {
                                stream,
                                data: pattern(stream + 1, LEN).into(),
                                end_stream: true,
                            })
                            .unwrap();
                        done += 1;
                    }
                }
                Event::Settings(_) => {}
                other => panic!("server got {other:?}"),
            }
        }
        server
    });

    let sender = client.clone();
    let send_task = tokio::spawn(async move {
        for _ in 0..STREAMS {
            let stream = sender.next_free_stream_identifier();
            let mut headers = request("/upload");
            headers = Headers::from_iter(
                headers
                    .iter()
                    .map(|f| {
                        if f.name == ":method" {
                            (&b":method"[..], &b"POST"[..])
                        } else {
                            (&f.name[..], &f.value[..])
                        }
                    })
                    .collect::<Vec<_>>(),
            );
            sender
                .put_act(Action::SendHeaders {
                    stream,
                    headers,
                    end_stream: false,
                })
                .unwrap();
            sender
                .put_act(Action::SendData {
                    stream,
                    data: pattern(stream, LEN).into(),
                    end_stream: true,
                })
                .unwrap();
        }
    });

    let mut bodies: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut complete = 0;
    within_for(Duration::from_secs(120), "1,000 streams", async {
        while complete < STREAMS {
            match client.take_evt().await.expect("client event") {
                Event::RecvHeaders { headers, .. } => {
                    assert_eq!(headers.get(":status"), Some("200"))
                }
                Event::RecvData {
                    stream,
                    data,
                    end_stream,
                } => {
                    let body = bodies.entry(stream).or_default();
                    body.extend_from_slice(&data);
                    if end_stream {
                        assert!(
                            *body == pattern(stream + 1, LEN),
                            "response body of stream {stream}"
                        );
                        complete += 1;
                    }
                }
                Event::Settings(_) => {}
                other => panic!("client got {other:?}"),
            }
        }
    })
    .await;
    send_task.await.unwrap();
    let server = within("server task", server_task).await.unwrap();
    assert_eq!(bodies.len(), STREAMS as usize);
    client.close().await;
    drop(server);
}

/// `skip_preface(true)` on both sides (a connection that agreed on HTTP/2 another way):
/// no magic is sent or expected, SETTINGS still are, and requests flow.
#[tokio::test]
async fn skip_preface_on_both_sides() {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let client = Session::builder(Role::Client).skip_preface(true).build(a);
    let server = Session::builder(Role::Server).skip_preface(true).build(b);
    let stream = client.next_free_stream_identifier();
    client
        .put_act(Action::SendHeaders {
            stream,
            headers: request("/upgraded"),
            end_stream: true,
        })
        .unwrap();
    let Event::RecvHeaders {
        headers,
        end_stream: true,
        ..
    } = next(&server).await
    else {
        panic!("request")
    };
    assert_eq!(headers.get(":path"), Some("/upgraded"));
    server
        .put_act(Action::SendHeaders {
            stream,
            headers: Headers::from_iter([(":status", "204")]),
            end_stream: true,
        })
        .unwrap();
    let Event::RecvHeaders { headers, .. } = next(&client).await else {
        panic!("response")
    };
    assert_eq!(headers.get(":status"), Some("204"));
}

/// A session whose peer sends GOAWAY with an error ends with that error, after the
/// GoAway event.
#[tokio::test]
async fn goaway_with_an_error_ends_the_peer() {
    let (client, server) = pair();
    server
        .put_act(Action::GoAway {
            code: ErrorCode::INTERNAL_ERROR,
            debug: "bye".into(),
        })
        .unwrap();
    let Event::GoAway { code, debug, .. } = next(&client).await else {
        panic!("goaway")
    };
    assert_eq!((code, &debug[..]), (ErrorCode::INTERNAL_ERROR, &b"bye"[..]));
    let Event::Error(err) = next(&client).await else {
        panic!("error")
    };
    assert!(err.to_string().contains("INTERNAL_ERROR"), "{err}");
    assert!(within("end", client.take_evt()).await.is_none());
    assert!(
        client.put_act(Action::Ping([0; 8])).is_err(),
        "a closed session takes no actions"
    );
}
