//! tinyproxy (Debian `tinyproxy`) as a real HTTP proxy peer: forwarding, `CONNECT`, and
//! `407` with `BasicAuth`.
//!
//! [`Tinyproxy::start`] writes a config into a fresh temporary directory and runs
//! `tinyproxy -d` (foreground) on 127.0.0.1; dropping the handle kills it (also when a
//! test panics, since unwinding runs `Drop`). The log (level `Info`: one line per
//! request with its request line) is readable with [`Tinyproxy::log`].
//!
//! # Port
//!
//! tinyproxy refuses `Port 0`, so a free port is picked here (bind `127.0.0.1:0`, read
//! the port, close) and handed over. Another socket can take it in between; tinyproxy
//! then exits at once, and the start is retried on a new port (a few times).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::peers::peer;

/// How long tinyproxy may take to start accepting.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The log line that says tinyproxy listens.
const READY: &str = "Accepting connections";
/// Attempts at a free port.
const ATTEMPTS: usize = 5;

/// A running tinyproxy on 127.0.0.1.
pub struct Tinyproxy {
    /// The port it listens on.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Tinyproxy {
    /// Starts a tinyproxy, requiring `user:password` basic auth when `auth` is given.
    /// `None` (after printing why) when tinyproxy is not installed outside CI.
    pub fn start(auth: Option<(&str, &str)>) -> Option<Tinyproxy> {
        let bin = peer("tinyproxy", "tinyproxy")?;
        let mut failures = Vec::new();
        for _ in 0..ATTEMPTS {
            match Tinyproxy::try_start(&bin, auth) {
                Ok(proxy) => return Some(proxy),
                Err(why) => failures.push(why),
            }
        }
        panic!("tinyproxy did not start: {failures:#?}");
    }

    fn try_start(bin: &std::path::Path, auth: Option<(&str, &str)>) -> Result<Tinyproxy, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let log = dir.path().join("tinyproxy.log");
        let mut config = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nLogLevel Info\n\
             ViaProxyName \"tinyproxy\"\n\
             LogFile \"{}\"\nPidFile \"{}\"\n",
            log.display(),
            dir.path().join("tinyproxy.pid").display(),
        );
        if let Some((user, password)) = auth {
            config.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let config_path = dir.path().join("tinyproxy.conf");
        std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("-d")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let mut proxy = Tinyproxy { port, dir, child };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if proxy.log().contains(READY) {
                return Ok(proxy);
            }
            if let Ok(Some(status)) = proxy.child.try_wait() {
                return Err(format!("exited with {status}: {}", proxy.log()));
            }
            if Instant::now() > deadline {
                return Err(format!("not ready in {START_TIMEOUT:?}: {}", proxy.log()));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://user:password@127.0.0.1:PORT`.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("tinyproxy.log")
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
