//! `download`: HTTP.jl's `download(url, local_path)`: a GET streamed to a file, with the
//! file name taken from the response, and progress reported every `update_period`.

use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use url::Url;

use super::builder::Client;
use super::request::exchange;
use crate::Error;

/// Progress of a download, passed to the callback every `update_period`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Bytes written so far.
    pub downloaded: u64,
    /// The size announced by Content-Length, if any (of the encoded form if compressed).
    pub total: Option<u64>,
    /// Time since the response head arrived.
    pub elapsed: Duration,
}

impl Progress {
    /// Average bytes per second so far.
    pub fn rate(&self) -> f64 {
        self.downloaded as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

type ProgressFn = Box<dyn FnMut(Progress) + Send>;

/// A download being set up; `.await` it for the path of the written file.
#[must_use = "a download does nothing until it is awaited"]
pub struct Download {
    client: Client,
    url: String,
    dest: Option<PathBuf>,
    headers: Vec<(HeaderName, HeaderValue)>,
    error: Option<Error>,
    update_period: Option<Duration>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("dest", &self.dest)
            .field("update_period", &self.update_period)
            .finish_non_exhaustive()
    }
}

impl Download {
    pub(crate) fn new(client: Client, url: &str, dest: Option<PathBuf>) -> Download {
        Download {
            client,
            url: url.to_owned(),
            dest,
            headers: Vec::new(),
            error: None,
            update_period: Some(Duration::from_secs(1)),
            progress: None,
        }
    }

    /// Adds a request header.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        match super::request::header_pair(name, value) {
            Ok(pair) => self.headers.push(pair),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// How often progress is reported (HTTP.jl default 1 s); `None` turns reports off.
    pub fn update_period(mut self, period: Option<Duration>) -> Self {
        self.update_period = period;
        self
    }

    /// Calls `f` with the progress every `update_period` and once at the end. Without a
    /// callback, progress is logged through `tracing` at info level (as HTTP.jl does).
    pub fn progress(mut self, f: impl FnMut(Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    async fn run(mut self) -> Result<PathBuf, Error> {
        if let Some(e) = self.error.take() {
            return Err(e.with_url(&Method::GET, &self.url));
        }
        let mut builder = self.client.get(&self.url);
        for (name, value) in std::mem::take(&mut self.headers) {
            builder = builder.header(name, value);
        }
        let (client, request, verbose) = builder.prepare()?;
        let uri = request.uri().clone();
        let response = exchange(
            client.inner.stack.clone(),
            request,
            verbose,
            &Method::GET,
            &uri,
        )
        .await?;
        let fail = |e: Error| e.with_request(&Method::GET, &uri);
        let url = super::target::url_of(&uri);
        let (parts, mut body) = response.into_parts();
        let path = destination(self.dest.as_deref(), &parts.headers, &url)
            .await
            .map_err(fail)?;
        let mut file = tokio::fs::File::create(&path).await.map_err(|e| {
            fail(Error::body(e).with_message(format!("cannot create {}", path.display())))
        })?;
        let total = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let started = Instant::now();
        let mut last_report = started;
        let mut downloaded = 0u64;
        let report = |downloaded: u64, progress: &mut Option<ProgressFn>| {
            let p = Progress {
                downloaded,
                total,
                elapsed: started.elapsed(),
            };
            match progress {
                Some(f) => f(p),
                None => {
                    tracing::info!(target: "httpstack::download", "downloaded {} of {:?} bytes ({:.0} B/s) to {}", p.downloaded, p.total, p.rate(), path.display())
                }
            }
        };
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| fail(Error::from_boxed(e)))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            file.write_all(&data).await.map_err(|e| {
                fail(Error::body(e).with_message(format!("cannot write {}", path.display())))
            })?;
            downloaded += data.len() as u64;
            if let Some(period) = self.update_period {
                if last_report.elapsed() >= period {
                    last_report = Instant::now();
                    report(downloaded, &mut self.progress);
                }
            }
        }
        file.flush().await.map_err(|e| {
            fail(Error::body(e).with_message(format!("cannot write {}", path.display())))
        })?;
        if self.update_period.is_some() {
            report(downloaded, &mut self.progress);
        }
        Ok(path)
    }
}

impl IntoFuture for Download {
    type Output = Result<PathBuf, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<PathBuf, Error>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// HTTP.jl's rule: no path → a temporary directory; a directory → a file in it named from
/// the response; anything else → that file.
async fn destination(
    dest: Option<&Path>,
    headers: &HeaderMap,
    url: &Url,
) -> Result<PathBuf, Error> {
    let dir = match dest {
        None => {
            let dir =
                std::env::temp_dir().join(format!("httpstack-download-{:016x}", fastrand::u64(..)));
            tokio::fs::create_dir_all(&dir).await.map_err(|e| {
                Error::body(e).with_message(format!("cannot create {}", dir.display()))
            })?;
            dir
        }
        Some(path) if tokio::fs::metadata(path).await.is_ok_and(|m| m.is_dir()) => path.to_owned(),
        Some(path) => return Ok(path.to_owned()),
    };
    Ok(dir.join(suggested_filename(headers, url)))
}

/// The file name a response suggests: Content-Disposition's `filename*` (RFC 6266 §4.3,
/// RFC 8187) or `filename`, else the URL's last path segment, else a made-up name. Only
/// the last path component is kept, so a hostile name cannot escape the directory.
pub fn suggested_filename(headers: &HeaderMap, url: &Url) -> String {
    let from_header = headers
        .get(CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(content_disposition_filename);
    let from_url = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .map(crate::uri::unescape);
    // The first candidate that is still a name after sanitizing wins.
    from_header
        .into_iter()
        .chain(from_url)
        .map(|name| sanitize(&name))
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| format!("download-{:08x}", fastrand::u32(..)))
}

fn content_disposition_filename(value: &str) -> Option<String> {
    let mut plain = None;
    for param in value.split(';').skip(1) {
        let Some((key, val)) = param.split_once('=') else {
            continue;
        };
        let (key, val) = (key.trim(), val.trim());
        if key.eq_ignore_ascii_case("filename*") {
            // charset'language'percent-encoded
            let mut parts = val.splitn(3, '\'');
            let (_charset, _lang, encoded) = (parts.next(), parts.next(), parts.next());
            if let Some(encoded) = encoded {
                return Some(crate::uri::unescape(encoded));
            }
        } else if key.eq_ignore_ascii_case("filename") {
            let unquoted = val
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(val);
            plain = Some(unquoted.replace("\\\"", "\"").replace("\\\\", "\\"));
        }
    }
    plain
}

fn sanitize(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).collect();
    match clean.trim() {
        "." | ".." => String::new(),
        trimmed => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames() {
        let url = Url::parse("http://h/files/report%20v2.pdf?x=1").unwrap();
        let bare = Url::parse("http://h/").unwrap();
        let cases: &[(Option<&str>, &Url, &str)] = &[
            (Some("attachment; filename=\"a.txt\""), &url, "a.txt"),
            (Some("attachment; filename=plain.bin"), &url, "plain.bin"),
            (
                Some("attachment; filename=\"x.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt"),
                &url,
                "€ rates.txt",
            ),
            (
                Some("attachment; filename=\"../../etc/passwd\""),
                &url,
                "passwd",
            ),
            (Some("attachment; filename=\"..\""), &url, "report v2.pdf"),
            (Some("inline"), &url, "report v2.pdf"),
            (None, &url, "report v2.pdf"),
        ];
        for (header, url, expected) in cases {
            let mut headers = HeaderMap::new();
            if let Some(h) = header {
                headers.insert(CONTENT_DISPOSITION, HeaderValue::from_str(h).unwrap());
            }
            assert_eq!(
                suggested_filename(&headers, url),
                *expected,
                "case {header:?}"
            );
        }
        assert!(suggested_filename(&HeaderMap::new(), &bare).starts_with("download-"));
    }
}
