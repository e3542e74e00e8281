//! [`AccessLog`]: captures a request's loggable parts and hands them to the future.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;

use super::body::AccessLogBody;
use super::entry::Entry;
use super::future::ResponseFuture;
use super::layer::AccessLogLayer;
use super::logger::Logger;
use crate::error::Error;

/// The service of [`AccessLogLayer`]: passes requests and errors through unchanged and
/// wraps the response body to count the bytes sent.
#[derive(Clone, Debug)]
pub struct AccessLog<S> {
    inner: S,
    logger: Arc<Logger>,
}

impl<S> AccessLog<S> {
    /// Wraps `inner`, logging in `format`; lines go to `tracing`. See
    /// [`AccessLogLayer::new`] for the errors.
    pub fn new(inner: S, format: &str) -> Result<AccessLog<S>, Error> {
        Ok(tower::Layer::layer(&AccessLogLayer::new(format)?, inner))
    }

    /// A layer logging in `format`; the same as [`AccessLogLayer::new`].
    pub fn layer(format: &str) -> Result<AccessLogLayer, Error> {
        AccessLogLayer::new(format)
    }

    pub(crate) fn from_parts(inner: S, logger: Arc<Logger>) -> AccessLog<S> {
        AccessLog { inner, logger }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for AccessLog<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
{
    type Response = Response<AccessLogBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let entry = Entry::capture(&self.logger, &req);
        ResponseFuture::new(self.inner.call(req), entry)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::io::{self, Write};
    use std::sync::Mutex;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use bytes::Bytes;
    use http::{HeaderMap, Method, Version};
    use http_body::Frame;
    use http_body_util::{BodyExt, StreamBody};
    use tower::{service_fn, Layer, ServiceExt};

    use super::*;
    use crate::access_log::{PeerAddr, TRACING_TARGET};

    /// A writer the tests read back.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Lines {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// 2026-11-21T09:19:14Z.
    fn fixed_clock() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_252_754)
    }

    fn layer(format: &str, lines: &Lines) -> AccessLogLayer {
        AccessLogLayer::new(format)
            .unwrap_or_else(|e| panic!("{format:?}: {e}"))
            .writer(lines.clone())
            .with_clock(fixed_clock)
    }

    fn request() -> Request<()> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/api/items?id=7")
            .header("user-agent", "curl/8.5.0")
            .header("referer", "http://example.com/")
            .header("x-forwarded-for", "203.0.113.9")
            .header("x-forwarded-for", "198.51.100.1")
            .header("authorization", "Basic YWxpY2U6c2VjcmV0") // alice:secret
            .header("x-quote", "say \"hi\"")
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(PeerAddr("192.0.2.10:54321".parse().unwrap()));
        req
    }

    async fn respond(_req: Request<()>) -> Result<Response<String>, Infallible> {
        Ok(Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .header("x-request-id", "abc-123")
            .body(String::from("hello"))
            .unwrap())
    }

    /// Runs `req` through a layer logging `format` and returns the line.
    async fn log_line(format: &str, req: Request<()>) -> String {
        let lines = Lines::default();
        let svc = layer(format, &lines).layer(service_fn(respond));
        let resp = svc.oneshot(req).await.unwrap();
        resp.into_body().collect().await.unwrap();
        lines.take()
    }

    #[tokio::test]
    async fn formats_every_variable() {
        const CASES: &[(&str, &str)] = &[
            ("$remote_addr", "192.0.2.10"),
            ("$remote_port", "54321"),
            ("$remote_user", "alice"),
            ("$request", "POST /api/items?id=7 HTTP/1.1"),
            ("$request_method", "POST"),
            ("$request_uri", "/api/items?id=7"),
            ("$server_protocol", "HTTP/1.1"),
            ("$status", "201"),
            ("$body_bytes_sent", "5"),
            ("$time_iso8601", "2026-11-21T09:19:14+0000"),
            ("$time_local", "21/Nov/2026:09:19:14 +0000"),
            ("$http_user_agent", "curl/8.5.0"),
            ("$http_x_forwarded_for", "203.0.113.9"),
            ("$http_X_FORWARDED_FOR", "203.0.113.9"),
            ("$http_x_quote", "say \\x22hi\\x22"),
            ("$http_cookie", "-"),
            ("$sent_http_content_type", "application/json"),
            ("$sent_http_x_request_id", "abc-123"),
            ("$sent_http_etag", "-"),
            ("${status}ms $$5", "201ms $5"),
            ("a${request_method}b", "aPOSTb"),
            ("", ""),
            (
                crate::access_log::COMMON_LOG_FORMAT,
                "192.0.2.10 - alice [21/Nov/2026:09:19:14 +0000] \"POST /api/items?id=7 HTTP/1.1\" 201 5",
            ),
            (
                crate::access_log::COMBINED_LOG_FORMAT,
                "192.0.2.10 - alice [21/Nov/2026:09:19:14 +0000] \"POST /api/items?id=7 HTTP/1.1\" 201 5 \"http://example.com/\" \"curl/8.5.0\"",
            ),
        ];
        for (format, expected) in CASES {
            assert_eq!(
                log_line(format, request()).await,
                format!("{expected}\n"),
                "format {format:?}"
            );
        }
    }

    #[tokio::test]
    async fn request_forms_and_missing_parts() {
        let bare = |version: Version, method: Method, uri: &str| {
            Request::builder()
                .version(version)
                .method(method)
                .uri(uri)
                .body(())
                .unwrap()
        };
        let mut bare_socket = bare(Version::HTTP_10, Method::GET, "/");
        bare_socket
            .extensions_mut()
            .insert("[::1]:8080".parse::<std::net::SocketAddr>().unwrap());
        let mut basic_no_colon = bare(Version::HTTP_11, Method::GET, "/");
        basic_no_colon
            .headers_mut()
            .insert("authorization", "basic Ym9i".parse().unwrap()); // bob
        let mut bearer = bare(Version::HTTP_11, Method::GET, "/");
        bearer
            .headers_mut()
            .insert("authorization", "Bearer abc".parse().unwrap());
        let mut bad_base64 = bare(Version::HTTP_11, Method::GET, "/");
        bad_base64
            .headers_mut()
            .insert("authorization", "Basic !!!".parse().unwrap());

        let cases = vec![
            (
                bare(Version::HTTP_11, Method::GET, "/"),
                "$remote_addr:$remote_port $remote_user",
                "-:- -",
            ),
            (
                bare_socket,
                "$remote_addr $remote_port $request",
                "::1 8080 GET / HTTP/1.0",
            ),
            (basic_no_colon, "$remote_user", "bob"),
            (bearer, "$remote_user", "-"),
            (bad_base64, "$remote_user", "-"),
            (
                bare(Version::HTTP_2, Method::GET, "https://example.com/a?b=1"),
                "$request",
                "GET /a?b=1 HTTP/2.0",
            ),
            (
                bare(Version::HTTP_11, Method::GET, "http://example.com:8080/p"),
                "$request_uri",
                "http://example.com:8080/p",
            ),
            (
                bare(Version::HTTP_11, Method::CONNECT, "example.com:443"),
                "$request",
                "CONNECT example.com:443 HTTP/1.1",
            ),
            (
                bare(Version::HTTP_11, Method::OPTIONS, "*"),
                "$request_uri",
                "*",
            ),
            (
                bare(Version::HTTP_11, Method::GET, "/a\"b"),
                "$request_uri",
                "/a\\x22b",
            ),
        ];
        for (req, format, expected) in cases {
            let uri = req.uri().clone();
            assert_eq!(
                log_line(format, req).await,
                format!("{expected}\n"),
                "format {format:?} for {uri}"
            );
        }
    }

    #[tokio::test]
    async fn utc_offset_applies_to_both_times() {
        let lines = Lines::default();
        let svc = layer("$time_local|$time_iso8601", &lines)
            .utc_offset_minutes(-90)
            .layer(service_fn(respond));
        svc.oneshot(request()).await.unwrap();
        assert_eq!(
            lines.take(),
            "21/Nov/2026:07:49:14 -0130|2026-11-21T07:49:14-0130\n"
        );
    }

    fn streamed(
        frames: Vec<Frame<Bytes>>,
    ) -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>>> {
        StreamBody::new(futures_util::stream::iter(frames.into_iter().map(Ok)))
    }

    fn three_frames() -> Vec<Frame<Bytes>> {
        let mut trailers = HeaderMap::new();
        trailers.insert("x-checksum", "1".parse().unwrap());
        vec![
            Frame::data(Bytes::from_static(b"ab")),
            Frame::data(Bytes::from_static(b"cde")),
            Frame::data(Bytes::from_static(b"f")),
            Frame::trailers(trailers),
        ]
    }

    #[tokio::test]
    async fn counts_a_streamed_body_and_logs_at_its_end() {
        let lines = Lines::default();
        let svc = layer("$status $body_bytes_sent", &lines).layer(service_fn(
            |_req: Request<()>| async {
                Ok::<_, Infallible>(Response::new(streamed(three_frames())))
            },
        ));
        let mut body = svc.oneshot(request()).await.unwrap().into_body();
        assert_eq!(lines.take(), "", "nothing is logged before the body ends");
        while let Some(frame) = body.frame().await {
            frame.unwrap();
        }
        assert_eq!(lines.take(), "200 6\n");
        drop(body);
        assert_eq!(lines.take(), "", "logged once");
    }

    #[tokio::test]
    async fn a_body_dropped_early_logs_what_was_sent() {
        let lines = Lines::default();
        let svc = layer("$status $body_bytes_sent", &lines).layer(service_fn(
            |_req: Request<()>| async {
                Ok::<_, Infallible>(Response::new(streamed(three_frames())))
            },
        ));
        let mut body = svc.oneshot(request()).await.unwrap().into_body();
        body.frame().await.unwrap().unwrap();
        assert_eq!(lines.take(), "");
        drop(body);
        assert_eq!(lines.take(), "200 2\n");

        // A response dropped unread logs 0 bytes.
        let svc = layer("$status $body_bytes_sent", &lines).layer(service_fn(respond));
        drop(svc.oneshot(request()).await.unwrap());
        assert_eq!(lines.take(), "201 0\n");
    }

    #[tokio::test]
    async fn service_errors_pass_through_and_log_500() {
        let lines = Lines::default();
        let svc = layer("$request_method $status $body_bytes_sent", &lines).layer(service_fn(
            |_req: Request<()>| async {
                Err::<Response<String>, _>(io::Error::other("handler broke"))
            },
        ));
        let err = svc.oneshot(request()).await.unwrap_err();
        assert_eq!(err.to_string(), "handler broke");
        assert_eq!(lines.take(), "POST 500 0\n");
    }

    #[tokio::test]
    async fn a_request_dropped_before_its_response_logs_499() {
        let lines = Lines::default();
        let mut svc =
            layer("$request_uri $status", &lines).layer(service_fn(|_req: Request<()>| {
                std::future::pending::<Result<Response<String>, Infallible>>()
            }));
        let fut = svc.ready().await.unwrap().call(request());
        drop(fut);
        assert_eq!(lines.take(), "/api/items?id=7 499\n");
    }

    #[tokio::test]
    async fn clones_and_services_share_the_writer() {
        let lines = Lines::default();
        let layer = layer("$status", &lines);
        let a = layer.clone().layer(service_fn(respond));
        let b = layer.layer(service_fn(respond));
        a.oneshot(request()).await.unwrap();
        b.oneshot(request()).await.unwrap();
        assert_eq!(lines.take(), "201\n201\n");
    }

    /// Records `(level, target, message)` of every event on this thread.
    struct Capture(Arc<Mutex<Vec<(tracing::Level, String, String)>>>);

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            struct Message(String);
            impl tracing::field::Visit for Message {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    if field.name() == "message" {
                        self.0 = format!("{value:?}");
                    }
                }
            }
            let mut message = Message(String::new());
            event.record(&mut message);
            let meta = event.metadata();
            self.0
                .lock()
                .unwrap()
                .push((*meta.level(), meta.target().to_owned(), message.0));
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[tokio::test]
    async fn logs_to_tracing_by_default() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let _guard = tracing::subscriber::set_default(Capture(events.clone()));
        let svc = AccessLogLayer::new("\"$request\" $status")
            .unwrap()
            .layer(service_fn(respond));
        svc.oneshot(request())
            .await
            .unwrap()
            .into_body()
            .collect()
            .await
            .unwrap();
        let events = events.lock().unwrap();
        assert_eq!(
            *events,
            [(
                tracing::Level::INFO,
                TRACING_TARGET.to_owned(),
                "\"POST /api/items?id=7 HTTP/1.1\" 201".to_owned()
            )]
        );
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_failing_writer_is_reported_once() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let _guard = tracing::subscriber::set_default(Capture(events.clone()));
        let layer = AccessLogLayer::common().writer(Broken);
        for _ in 0..3 {
            let svc = layer.clone().layer(service_fn(respond));
            let resp = svc.oneshot(request()).await.unwrap();
            assert_eq!(
                resp.into_body().collect().await.unwrap().to_bytes(),
                "hello"
            );
        }
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].0, tracing::Level::WARN);
        assert!(events[0].2.contains("writing the access log failed"));
    }
}
