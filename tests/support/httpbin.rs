//! Python httpbin, served by gunicorn, as a real third-party HTTP/1.1 peer.
//!
//! `.ci/run` installs it in a venv (`$HTTPSTACK_PEERS_VENV`, else `<repo>/.peers/venv`).
//! [`httpbin`] starts one server per test binary, shared by its tests; [`Httpbin::start`]
//! starts a private one that stops when dropped. When the venv is missing, tests fail under
//! `CI=true` and skip elsewhere, printing why (docs/design.md: never a silent pass).
//!
//! # Port
//!
//! gunicorn binds `127.0.0.1:0` itself and we read the port from its `Listening at:` log
//! line. Picking a free port here and handing it over would leave a window in which
//! another test's socket can take it, and gunicorn spends 5 s retrying a taken port.
//!
//! # Why gunicorn cannot outlive the test binary
//!
//! The shared server sits in a `static`, and Rust never runs `Drop` for statics, so a
//! kill-on-drop alone would leak a gunicorn after every test run. Instead gunicorn runs
//! under a tiny `sh` watchdog whose stdin is a pipe; the test binary holds the only write
//! end (std opens it close-on-exec, so no other child inherits it). However the binary
//! ends — normal exit, panic, `SIGKILL` — the kernel closes that end, the watchdog's
//! `read` returns at end-of-file, and it sends gunicorn `SIGTERM` (gunicorn then stops its
//! workers within `--graceful-timeout`), then `SIGKILL` if it is still there 5 s later.
//! Dropping an [`Httpbin`] closes the pipe the same way, then reaps the watchdog. Nothing
//! needs `prctl`, a pid file, or the test's pid.
//!
//! The readiness check uses only `std::net`, so a broken httpstack client cannot make the
//! peer look absent.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How long gunicorn may take to answer `GET /get` after it is spawned.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause between two readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// Read timeout of one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long `Drop` waits for the watchdog to exit before killing it.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// gunicorn's log line naming the bound address: `Listening at: http://127.0.0.1:PORT (PID)`.
const LISTENING_AT: &str = "Listening at: http://";
/// How much of gunicorn's log a start failure shows.
const LOG_TAIL_BYTES: u64 = 4000;

/// Watchdog: `$@` is the gunicorn command line. fd 3 keeps the pipe from the test binary,
/// because sh points a background job's stdin at /dev/null; gunicorn gets neither, so
/// only the test binary and this reader hold the pipe. `SIGKILL` follows `SIGTERM` for a
/// gunicorn that has not installed its handlers yet or hangs; its workers exit by
/// themselves when their master is gone.
const WATCHDOG: &str = r#"
exec 3<&0
"$@" </dev/null 3<&- &
server=$!
{
  read -r _ <&3
  kill -TERM "$server" 2>/dev/null && sleep 5 && kill -KILL "$server" 2>/dev/null
} &
reader=$!
wait "$server"
status=$?
kill "$reader" 2>/dev/null
exit "$status"
"#;

/// A running httpbin on 127.0.0.1.
pub struct Httpbin {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    /// The address gunicorn listens on.
    pub addr: SocketAddr,
    process: Process,
}

/// The httpbin shared by every test of this test binary, started on first use.
///
/// `None` (with a printed reason) when the peer is not installed outside CI; panics when
/// it is missing under `CI=true` or installed but unable to start.
pub fn httpbin() -> Option<&'static Httpbin> {
    static SHARED: OnceLock<Option<Httpbin>> = OnceLock::new();
    let shared = SHARED.get_or_init(Httpbin::start).as_ref();
    if shared.is_none() {
        // Print per caller, so every skipped test says why it passed.
        eprintln!("skipping: httpbin not installed (run .ci/run)");
    }
    shared
}

impl Httpbin {
    /// Starts a private httpbin, stopped when the value is dropped. Same `None` / panic
    /// rules as [`httpbin`].
    pub fn start() -> Option<Httpbin> {
        let gunicorn = match find_gunicorn() {
            Ok(path) => path,
            Err(looked_at) => return missing(&looked_at),
        };
        let mut process = Process::spawn(&gunicorn)
            .unwrap_or_else(|e| panic!("httpbin ({}) did not start: {e}", gunicorn.display()));
        match process.wait_ready() {
            Ok(addr) => Some(Httpbin {
                base: format!("http://{addr}"),
                addr,
                process,
            }),
            // `process` drops before the panic unwinds past it, stopping gunicorn.
            Err(e) => panic!("httpbin ({}) did not start: {e}", gunicorn.display()),
        }
    }

    /// `base` joined with `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

/// Sends `GET path` with `Connection: close` over a plain `TcpStream` and returns the whole
/// response (status line, headers, body) as text. Bounded by connect and read timeouts.
pub fn raw_get(addr: SocketAddr, path: &str) -> io::Result<String> {
    get_within(addr, path, Duration::from_secs(5))
}

/// [`raw_get`] with a read and write timeout of `io_timeout`.
fn get_within(addr: SocketAddr, path: &str, io_timeout: Duration) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(io_timeout))?;
    stream.set_write_timeout(Some(io_timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    // The server closes after one response (Connection: close); take at most 1 MiB.
    stream.take(1024 * 1024).read_to_end(&mut response)?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

/// The venv's gunicorn, or the list of places looked at.
fn find_gunicorn() -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Some(venv) = std::env::var_os("HTTPSTACK_PEERS_VENV").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(venv).join("bin/gunicorn"));
    }
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".peers/venv/bin/gunicorn"));
    match candidates.iter().find(|path| path.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")),
    }
}

/// The peer is not installed: fail under CI, skip elsewhere.
fn missing<T>(looked_at: &str) -> Option<T> {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("httpbin peer missing: run .ci/run (no gunicorn at {looked_at})");
    }
    None
}

/// gunicorn under its watchdog, and its log.
struct Process {
    /// The `sh` watchdog around gunicorn.
    watchdog: Child,
    /// The write end of the watchdog's stdin; closing it stops gunicorn.
    stop_pipe: Option<ChildStdin>,
    /// gunicorn's stdout and stderr: an unlinked temporary file, so nothing is left in
    /// /tmp even by the never-dropped shared server.
    log: File,
}

impl Process {
    fn spawn(gunicorn: &Path) -> Result<Process, String> {
        let log = tempfile::tempfile().map_err(|e| format!("gunicorn log file: {e}"))?;
        let log_for = |what: &str| log.try_clone().map_err(|e| format!("gunicorn {what}: {e}"));
        // The venv's gunicorn script runs the venv's python, so no activation is needed.
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("httpbin-watchdog") // $0
            .arg(gunicorn)
            .args(["-k", "gthread", "--threads", "8", "-w", "1"])
            .args(["-b", "127.0.0.1:0", "--graceful-timeout", "3"])
            // Info level for the `Listening at:` line; there is no access log by default.
            .args(["--log-level", "info"])
            // gunicorn 27's control socket defaults to one path under $HOME, which two
            // concurrent servers (the shared and a private one) would fight over.
            .arg("--no-control-socket")
            .arg("httpbin:app")
            // Keep the repo's files off gunicorn's import path.
            .current_dir(gunicorn.parent().unwrap_or(gunicorn))
            .stdin(Stdio::piped())
            .stdout(log_for("stdout")?)
            .stderr(log_for("stderr")?)
            .spawn()
            .map_err(|e| format!("spawn sh for {}: {e}", gunicorn.display()))?;
        let stop_pipe = watchdog.stdin.take();
        Ok(Process {
            watchdog,
            stop_pipe,
            log,
        })
    }

    /// Waits until gunicorn has logged its address and answers `GET /get` there with
    /// httpbin's echo; fails when gunicorn exits or [`START_TIMEOUT`] passes.
    fn wait_ready(&mut self) -> Result<SocketAddr, String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let max_probes = START_TIMEOUT.as_millis() / PROBE_INTERVAL.as_millis() + 1;
        let mut last_error = String::from("gunicorn has not logged its address");
        for _ in 0..max_probes {
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                return Err(format!("gunicorn exited ({status}):\n{}", self.log_tail()));
            }
            if let Some(addr) = self.listening_at() {
                match get_within(addr, "/get", PROBE_TIMEOUT) {
                    // `"headers"` is in httpbin's JSON echo: it is httpbin answering.
                    Ok(response)
                        if response.starts_with("HTTP/1.1 200")
                            && response.contains("\"headers\"") =>
                    {
                        return Ok(addr)
                    }
                    Ok(response) => last_error = first_line(&response).to_string(),
                    Err(error) => last_error = format!("GET http://{addr}/get: {error}"),
                }
            }
            if Instant::now() >= deadline {
                break;
            }
            thread::sleep(PROBE_INTERVAL);
        }
        Err(format!(
            "not ready within {START_TIMEOUT:?} (last: {last_error}):\n{}",
            self.log_tail()
        ))
    }

    /// The address from gunicorn's `Listening at: http://127.0.0.1:PORT (PID)` line.
    fn listening_at(&self) -> Option<SocketAddr> {
        let log = self.read_log(0, 64 * 1024);
        let rest = &log[log.find(LISTENING_AT)? + LISTENING_AT.len()..];
        rest.split_whitespace().next()?.parse().ok()
    }

    /// The last [`LOG_TAIL_BYTES`] of gunicorn's log.
    fn log_tail(&self) -> String {
        let len = self.log.metadata().map(|m| m.len()).unwrap_or(0);
        let start = len.saturating_sub(LOG_TAIL_BYTES);
        self.read_log(start, LOG_TAIL_BYTES as usize)
    }

    /// Reads the log at `offset` without moving the file offset gunicorn writes at.
    fn read_log(&self, offset: u64, max: usize) -> String {
        let mut buf = vec![0u8; max];
        let n = self.log.read_at(&mut buf, offset).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Closing the pipe is the stop signal (see the module docs).
        drop(self.stop_pipe.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        let max_polls = STOP_TIMEOUT.as_millis() / 50 + 1;
        for _ in 0..max_polls {
            if !matches!(self.watchdog.try_wait(), Ok(None)) || Instant::now() >= deadline {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        // Already exited: both calls are harmless. Stuck: kill, then reap.
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}
