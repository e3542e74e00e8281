//! `multipart/mixed` (`httpstack::multipart::{Batch, parse_multipart_mixed}`) against
//! Python's `email` package as the peer, both ways (`tests/support/email_peer.py`):
//! Python builds a nested message and we read every part's headers and body exactly; we
//! build a batch and Python reads it back without a defect. Then a batch POSTed by
//! httpstack's client to an httpstack server over 127.0.0.1 and answered with a batch,
//! each limit at its edge (at the limit passes, one over is refused), and bad input that
//! must give a typed error, never a panic.
//!
//! `python3` must be on the PATH (only its standard library is used): without it these
//! tests fail, they do not skip.

mod support;

use std::process::{Command, Stdio};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Request, Response};
use httpstack::multipart::{
    parse_multipart_mixed, parse_multipart_mixed_with, read_multipart_mixed,
    read_multipart_mixed_with, Batch, BodyPart, Form, MultipartError, MultipartLimits,
};
use httpstack::server::{handler_fn, serve};
use httpstack::Body;
use serde_json::Value;
use support::within;

const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/email_peer.py");

/// Runs the peer script with `args`, `stdin` as its input; its stdout as JSON.
fn email_peer(args: &[&str], stdin: &[u8]) -> Value {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg(PEER)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for these tests (CI installs it); is it on the PATH?");
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin).expect("write to python3");
    drop(input);
    let output = child.wait_with_output().expect("python3 runs");
    assert!(
        output.status.success(),
        "email_peer.py {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("email_peer.py prints JSON")
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    digits
        .chunks(4)
        .flat_map(|chunk| {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &d)| n | (d as u32) << (18 - 6 * i));
            let bytes = n.to_be_bytes();
            bytes[1..chunk.len()].to_vec()
        })
        .collect()
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a JSON string")
}

/// Compares our parts with the peer's tree at `path` (for messages), recursing into
/// multipart parts with [`BodyPart::parts`].
fn assert_same_tree(ours: &[BodyPart], theirs: &Value, path: &str) {
    let theirs = theirs.as_array().expect("a JSON list of parts");
    assert_eq!(ours.len(), theirs.len(), "{path}: number of parts");
    for (i, (our, their)) in ours.iter().zip(theirs).enumerate() {
        let path = format!("{path}/{i}");
        let our_headers: Vec<(String, String)> = our
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let their_headers: Vec<(String, String)> = their["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|pair| {
                (
                    text(&pair[0]).to_ascii_lowercase(),
                    text(&pair[1]).to_owned(),
                )
            })
            .collect();
        assert_eq!(our_headers, their_headers, "{path}: headers");
        if let Some(nested) = their.get("parts") {
            assert!(our.is_multipart(), "{path}: multipart");
            let parts = our.parts().unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_same_tree(&parts, nested, &path);
        } else {
            let body = base64_decode(text(&their["body"]));
            assert!(
                our.body()[..] == body[..],
                "{path}: body\n ours: {:?}\ntheirs: {:?}",
                our.body(),
                Bytes::from(body)
            );
        }
    }
}

#[test]
fn python_builds_we_parse() {
    let built = email_peer(&["build"], b"");
    let content_type = text(&built["content_type"]);
    let body = base64_decode(text(&built["body"]));
    let parts = parse_multipart_mixed(content_type, body).expect("our parser reads Python's");
    assert_same_tree(&parts, &built["parts"], "");
    // Spot checks, so an empty tree on both sides cannot pass.
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[0].headers()["content-id"], "<item-1>");
    assert_eq!(
        parts[2].parts().unwrap()[2].parts().unwrap()[1].text(),
        "<p>html</p>"
    );
}

fn h(name: &'static str, value: &'static str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

fn part(headers: &[(HeaderName, HeaderValue)], body: impl Into<Bytes>) -> BodyPart {
    headers
        .iter()
        .fold(BodyPart::new(body), |part, (name, value)| {
            part.header(name.clone(), value.clone())
        })
}

/// Every byte value, and line ends of every kind, in one body.
fn awkward_bytes() -> Vec<u8> {
    let mut data: Vec<u8> = (0..=255).collect();
    data.extend_from_slice(b"\r\n--\r\n\r--x\n-- \r\n\r\n\r");
    data
}

fn sample_batch() -> Batch {
    let changeset = Batch::new()
        .part(part(
            &[
                h("content-type", "application/http"),
                h("content-id", "<1>"),
            ],
            "POST /users HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"name\": \"ada\"}",
        ))
        .part(BodyPart::new("a part without headers"));
    Batch::new()
        .part(part(
            &[
                h("content-type", "application/http"),
                h("content-transfer-encoding", "binary"),
            ],
            "GET /users/1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        ))
        .part(part(
            &[
                h("content-type", "application/octet-stream"),
                h("content-transfer-encoding", "binary"),
            ],
            awkward_bytes(),
        ))
        .part(changeset)
        .part(part(&[h("content-type", "text/plain")], ""))
}

#[test]
fn we_build_python_parses() {
    let batch = sample_batch();
    let content_type = batch.content_type();
    let body = batch.to_bytes();
    let theirs = email_peer(&["parse", &content_type], &body);
    assert_same_tree(batch.parts(), &theirs, "");
    // The same holds for our own parser, nested part by nested part.
    let ours = parse_multipart_mixed(&content_type, body).unwrap();
    assert_same_tree(&ours, &theirs, "");
    assert_eq!(ours[1].body()[..], awkward_bytes()[..]);
}

#[test]
fn an_explicit_boundary_that_needs_quoting() {
    let batch = Batch::with_boundary("a b:c=d?")
        .unwrap()
        .part(part(&[h("content-type", "text/plain")], "x"));
    assert_eq!(
        batch.content_type(),
        "multipart/mixed; boundary=\"a b:c=d?\""
    );
    let theirs = email_peer(&["parse", &batch.content_type()], &batch.to_bytes());
    assert_same_tree(batch.parts(), &theirs, "");
}

/// The server reads the batch it is sent and answers with a batch of one part per part
/// it read (its Content-Type and length); the client reads that answer.
#[tokio::test]
async fn client_posts_a_batch_server_answers_with_one() {
    let server = serve(
        "127.0.0.1:0",
        handler_fn(|req: Request<Body>| async move {
            let parts = match read_multipart_mixed(req).await {
                Ok(parts) => parts,
                Err(err) => return err.into_response(),
            };
            let mut answer = Batch::new();
            for part in &parts {
                let summary = format!(
                    "{} {} {}",
                    part.content_type().unwrap_or("-"),
                    part.body().len(),
                    part.parts().map_or(0, |nested| nested.len()),
                );
                answer = answer.part(part_with_type("text/plain", summary));
            }
            let content_type = HeaderValue::from_str(&answer.content_type()).unwrap();
            let mut response = Response::new(answer.into_body());
            response.headers_mut().insert(CONTENT_TYPE, content_type);
            response
        }),
    )
    .await
    .unwrap();
    let url = format!("http://{}/$batch", server.local_addr());
    let batch = sample_batch();
    let expected: Vec<String> = batch
        .parts()
        .iter()
        .map(|part| {
            format!(
                "{} {} {}",
                part.content_type().unwrap_or("-"),
                part.body().len(),
                part.parts().map_or(0, |nested| nested.len())
            )
        })
        .collect();
    let resp = within(
        "batch request",
        httpstack::post(&url).multipart_mixed(batch),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let answers: Vec<String> = resp
        .multipart_mixed()
        .unwrap()
        .iter()
        .map(BodyPart::text)
        .collect();
    assert_eq!(answers, expected);
    assert!(expected[2].ends_with(" 2"), "the changeset has two parts");

    // A body that is not multipart is refused before it is read.
    let resp = within(
        "text to the batch endpoint",
        httpstack::post(&url).body("x").status_exception(false),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 415);
    server.close().await;
}

fn part_with_type(content_type: &str, body: impl Into<Bytes>) -> BodyPart {
    BodyPart::new(body).header(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap())
}

/// A client reads a multipart/form-data response with `Response::multipart_form`.
#[tokio::test]
async fn client_reads_a_form_response() {
    let server = serve(
        "127.0.0.1:0",
        handler_fn(|_req: Request<Body>| async move {
            let form = Form::with_boundary("xyz")
                .unwrap()
                .text("a", "one")
                .bytes("b", vec![7u8; 300]);
            let content_type = HeaderValue::from_str(&form.content_type()).unwrap();
            let mut response = Response::new(form.into_body());
            response.headers_mut().insert(CONTENT_TYPE, content_type);
            response
        }),
    )
    .await
    .unwrap();
    let resp = within(
        "form response",
        httpstack::get(format!("http://{}/", server.local_addr())),
    )
    .await
    .unwrap();
    let mut form = resp.multipart_form().unwrap();
    let mut read = Vec::new();
    while let Some(part) = form.next_part().await.unwrap() {
        let name = part.name().unwrap_or_default().to_owned();
        read.push((name, part.bytes().await.unwrap().len()));
    }
    assert_eq!(read, [("a".to_owned(), 3), ("b".to_owned(), 300)]);
    assert!(matches!(
        resp.multipart_mixed().map(|parts| parts.len()),
        Ok(2)
    ));
    server.close().await;
}

/// A body split into two chunks at any byte reads the same as the whole.
#[tokio::test]
async fn any_split_of_the_body_reads_the_same() {
    let batch = sample_batch();
    let content_type = batch.content_type();
    let body = batch.to_bytes();
    let whole: Vec<Bytes> = parse_multipart_mixed(&content_type, body.clone())
        .unwrap()
        .iter()
        .map(BodyPart::bytes)
        .collect();
    for at in 0..=body.len() {
        let chunks = vec![body.slice(..at), body.slice(at..)];
        let req = Request::post("/")
            .header(CONTENT_TYPE, &content_type)
            .body(Body::from_chunks(chunks))
            .unwrap();
        let parts = read_multipart_mixed(req).await.unwrap();
        let got: Vec<Bytes> = parts.iter().map(BodyPart::bytes).collect();
        assert_eq!(got, whole, "split at {at}");
    }
}

fn limit_case(body: &str, limits: MultipartLimits) -> Result<Vec<BodyPart>, MultipartError> {
    let parts = parse_multipart_mixed_with("multipart/mixed; boundary=b", body.to_owned(), limits)?;
    // Nested parts are parsed too, so the depth limit is met where it applies.
    fn walk(parts: &[BodyPart]) -> Result<(), MultipartError> {
        for part in parts.iter().filter(|part| part.is_multipart()) {
            walk(&part.parts()?)?;
        }
        Ok(())
    }
    walk(&parts)?;
    Ok(parts)
}

#[test]
fn limits_at_their_edge() {
    // The header block of this part is 26 + 8 = 34 bytes: two fields, CRLFs counted.
    const TWO_HEADERS: &str = "--b\r\nContent-Type: text/plain\r\nA: 123\r\n\r\nx\r\n--b--\r\n";
    let three_parts = "--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--";
    // Three levels: the body, a nested batch, and one inside that.
    let deep = "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n\
        --c\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n\
        --d\r\n\r\nx\r\n--d--\r\n--c--\r\n--b--";
    let base = MultipartLimits::new();
    let cases: &[(&str, &str, MultipartLimits, Option<&str>)] = &[
        (
            "header bytes at",
            TWO_HEADERS,
            base.max_header_bytes(34),
            None,
        ),
        (
            "header bytes over",
            TWO_HEADERS,
            base.max_header_bytes(33),
            Some("HeadersTooLarge { limit: 33, part: 0 }"),
        ),
        ("headers at", TWO_HEADERS, base.max_headers(2), None),
        (
            "headers over",
            TWO_HEADERS,
            base.max_headers(1),
            Some("TooManyHeaders { limit: 1, part: 0 }"),
        ),
        ("parts at", three_parts, base.max_parts(3), None),
        (
            "parts over",
            three_parts,
            base.max_parts(2),
            Some("TooManyParts { limit: 2 }"),
        ),
        ("depth at", deep, base.max_depth(3), None),
        (
            "depth over",
            deep,
            base.max_depth(2),
            Some("TooDeep { limit: 2 }"),
        ),
        (
            "body at",
            three_parts,
            base.max_body_bytes(three_parts.len() as u64),
            None,
        ),
        (
            "body over",
            three_parts,
            base.max_body_bytes(three_parts.len() as u64 - 1),
            Some("BodyTooLarge"),
        ),
    ];
    for (what, body, limits, expected) in cases {
        let result = limit_case(body, *limits);
        match (expected, &result) {
            (None, Ok(_)) => {}
            (Some(expected), Err(err)) => {
                assert!(format!("{err:?}").starts_with(expected), "{what}: {err:?}");
                assert!(err.is_limit(), "{what}: {err}");
                assert_eq!(err.status(), 413, "{what}");
            }
            _ => panic!("{what}: expected {expected:?}, got {result:?}"),
        }
    }
}

#[tokio::test]
async fn the_body_limit_when_read_from_a_request() {
    let batch = sample_batch();
    let body = batch.to_bytes();
    let len = body.len() as u64;
    for (limit, chunked, ok) in [
        (len, false, true),
        (len - 1, false, false),
        (len, true, true),
        (len - 1, true, false),
    ] {
        let body = if chunked {
            Body::from_chunks(
                body.chunks(100)
                    .map(Bytes::copy_from_slice)
                    .collect::<Vec<_>>(),
            )
        } else {
            Body::from(body.clone())
        };
        let mut req = Request::post("/")
            .header(CONTENT_TYPE, batch.content_type())
            .body(body)
            .unwrap();
        if !chunked {
            req.headers_mut()
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
        }
        let limits = MultipartLimits::new().max_body_bytes(limit);
        let result = read_multipart_mixed_with(req, limits).await;
        match result {
            Ok(parts) => assert!(ok && parts.len() == 4, "limit {limit}, chunked {chunked}"),
            Err(MultipartError::BodyTooLarge { limit: got }) => {
                assert!(!ok && got == limit, "limit {limit}, chunked {chunked}")
            }
            Err(err) => panic!("limit {limit}, chunked {chunked}: {err}"),
        }
    }
}

#[test]
fn boundaries_at_their_edge() {
    let seventy = "b".repeat(70);
    let seventy_one = "b".repeat(71);
    assert!(Batch::with_boundary(&seventy).is_ok());
    let body = |boundary: &str| format!("--{boundary}\r\n\r\nx\r\n--{boundary}--\r\n");
    let parts = parse_multipart_mixed(
        &format!("multipart/mixed; boundary={seventy}"),
        body(&seventy),
    );
    assert_eq!(parts.unwrap()[0].text(), "x");
    for bad in [
        seventy_one.as_str(),
        "",
        "a\u{e9}",
        "with\"quote",
        "ends ",
        "semi;colon",
    ] {
        assert!(
            matches!(
                Batch::with_boundary(bad),
                Err(MultipartError::InvalidBoundary { .. })
            ),
            "builder took {bad:?}"
        );
        let content_type = format!("multipart/mixed; boundary=\"{}\"", bad.replace('"', "\\\""));
        let err = parse_multipart_mixed(&content_type, body(bad)).unwrap_err();
        assert!(
            matches!(err, MultipartError::InvalidBoundary { .. }),
            "parser took {bad:?}: {err}"
        );
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn typed_errors_for_content_types() {
    let cases: &[(&str, u16)] = &[
        ("text/plain", 415),
        ("application/json; boundary=b", 415),
        ("multipart/mixed", 400),
        ("multipart/mixed; charset=utf-8", 400),
    ];
    for (content_type, status) in cases {
        let err = parse_multipart_mixed(content_type, "--b\r\n\r\nx\r\n--b--").unwrap_err();
        assert_eq!(err.status(), *status, "{content_type}: {err}");
    }
    // Any multipart subtype reads as mixed (RFC 2046 §5.1.3).
    let parts =
        parse_multipart_mixed("multipart/related; boundary=b", "--b\r\n\r\nx\r\n--b--").unwrap();
    assert_eq!(parts[0].text(), "x");
    // A part that is not multipart has no parts.
    assert!(matches!(
        parts[0].parts(),
        Err(MultipartError::NotMultipart)
    ));
}

/// Every prefix of a valid body, and the body with any one byte changed, gives parts or
/// a typed error: never a panic.
#[test]
fn bad_input_never_panics() {
    let batch = sample_batch();
    let content_type = batch.content_type();
    let body = batch.to_bytes();
    let limits = MultipartLimits::new().max_depth(3);
    let check = |body: Bytes| match parse_multipart_mixed_with(&content_type, body, limits) {
        Ok(parts) => {
            for part in parts.iter().filter(|part| part.is_multipart()) {
                let _ = part.parts();
            }
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    };
    for end in 0..body.len() {
        check(body.slice(..end));
    }
    for at in 0..body.len() {
        for byte in [b'\r', b'\n', b'-', b' ', b':', 0] {
            let mut changed = body.to_vec();
            changed[at] = byte;
            check(Bytes::from(changed));
        }
    }
}
