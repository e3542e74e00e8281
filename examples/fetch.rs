//! A small curl: `cargo run --example fetch -- [-X METHOD] [-H 'K: V']... [-d DATA] [-o FILE] [-v] URL`
//!
//! Prints the status, headers and body; with `-o FILE` (a file or a directory) downloads
//! with a progress bar and says which file name was detected. `-d` implies POST, as in curl.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use http::Method;
use httpstack::messages::HeaderExt;
use httpstack::Client;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Default)]
struct Args {
    method: Option<Method>,
    headers: Vec<(String, String)>,
    data: Option<String>,
    output: Option<PathBuf>,
    verbose: bool,
    url: Option<String>,
}

const USAGE: &str = "usage: fetch [-X METHOD] [-H 'K: V']... [-d DATA] [-o FILE] [-v] URL";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "-X" | "--request" => {
                let m = value("-X")?;
                out.method = Some(
                    Method::from_bytes(m.as_bytes())
                        .map_err(|_| format!("invalid method {m:?}"))?,
                );
            }
            "-H" | "--header" => {
                let h = value("-H")?;
                let (k, v) = h
                    .split_once(':')
                    .ok_or_else(|| format!("header {h:?} is not 'Name: value'"))?;
                out.headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            "-d" | "--data" => out.data = Some(value("-d")?),
            "-o" | "--output" => out.output = Some(PathBuf::from(value("-o")?)),
            "-v" | "--verbose" => out.verbose = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            url => out.url = Some(url.to_owned()),
        }
    }
    if out.url.is_none() {
        return Err(USAGE.to_owned());
    }
    Ok(out)
}

async fn run(args: Args) -> Result<(), httpstack::Error> {
    let url = args.url.unwrap_or_default();
    let client = Client::builder()
        .verbose(if args.verbose { 2 } else { 0 })
        .status_exception(false)
        .build()?;
    let method = args.method.unwrap_or(if args.data.is_some() {
        Method::POST
    } else {
        Method::GET
    });

    if let (Some(dest), true) = (&args.output, method == Method::GET) {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let progress_bar = bar.clone();
        let mut download = client
            .download(&url, dest)
            .update_period(Some(Duration::from_millis(100)))
            .progress(move |p| {
                if let Some(total) = p.total {
                    progress_bar.set_length(total);
                }
                progress_bar.set_position(p.downloaded);
            });
        for (k, v) in &args.headers {
            download = download.header(k.as_str(), v.as_str());
        }
        let path = download.await?;
        bar.finish();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!("saved {} (file name: {name})", path.display());
        return Ok(());
    }

    let mut request = client.request(method, &url);
    for (k, v) in &args.headers {
        request = request.header(k.as_str(), v.as_str());
    }
    if let Some(data) = args.data {
        request = request.body(data);
    }
    if let Some(dest) = &args.output {
        let mut file = tokio::fs::File::create(dest).await.map_err(|e| {
            httpstack::Error::body(e).with_message(format!("cannot create {}", dest.display()))
        })?;
        let resp = request.response_stream(&mut file).await?;
        println!("{:?} {}", resp.version(), resp.status());
        println!("saved {}", dest.display());
        return Ok(());
    }
    let resp = request.await?;
    println!("{:?} {}", resp.version(), resp.status());
    for (name, value) in resp.headers() {
        println!("{name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    println!();
    if resp.header_contains("content-type", "text/event-stream")
        || std::str::from_utf8(resp.body()).is_ok()
    {
        println!("{}", resp.text());
    } else {
        println!(
            "<{} bytes of binary data; use -o FILE to save>",
            resp.body().len()
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    if args.verbose {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("httpstack=debug")
            .with_writer(std::io::stderr)
            .try_init();
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fetch: {err}");
            ExitCode::FAILURE
        }
    }
}
