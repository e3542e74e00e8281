//! Python peers from the venv `.ci/run` builds (`$HTTPSTACK_PEERS_VENV`, else
//! `<repo>/.peers/venv`): the `websockets` library and the `kosoku` Autobahn runner.
//!
//! [`venv_tool`] finds a program of the venv (failing under `CI=true` and skipping
//! elsewhere when it is missing, as [`peer`](super::peers::peer) does); [`Script`] runs a
//! Python script as a child that is killed when dropped, and reads the `READY <port>`
//! line a server script prints once it listens.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use super::within;

/// The program `name` in the peers venv, if there; `None` after printing why the test
/// skips. Panics under `CI=true` when it is missing.
pub fn venv_tool(name: &str, package: &str) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(venv) = std::env::var_os("HTTPSTACK_PEERS_VENV").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(venv).join("bin").join(name));
    }
    candidates.push(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(".peers/venv/bin")
            .join(name),
    );
    if let Some(found) = candidates.iter().find(|path| path.is_file()) {
        return Some(found.clone());
    }
    let looked_at: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    if super::peers::in_ci() {
        panic!(
            "peer {name} missing under CI=true: run .ci/run (pip package {package}; looked at {})",
            looked_at.join(", ")
        );
    }
    eprintln!("skipping: {name} not installed (pip package {package}, or run .ci/run)");
    None
}

/// The venv's Python with `websockets` importable, or `None` (see [`venv_tool`]).
pub fn python_with_websockets() -> Option<PathBuf> {
    let python = venv_tool("python", "websockets")?;
    let ok = std::process::Command::new(&python)
        .args(["-c", "import websockets"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    if super::peers::in_ci() {
        panic!(
            "websockets is not installed in {}: run .ci/run",
            python.display()
        );
    }
    eprintln!(
        "skipping: websockets not installed in {} (run .ci/run)",
        python.display()
    );
    None
}

/// A running script; killed when dropped.
pub struct Script {
    pub child: Child,
    pub lines: Lines<BufReader<ChildStdout>>,
}

impl Script {
    /// Runs `program args...` with stdout piped (stderr inherited, so a Python traceback
    /// shows in the test output).
    pub fn spawn(program: &PathBuf, args: &[&str]) -> Script {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        Script {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next line of output (bounded by [`within`]); `None` at the end.
    pub async fn line(&mut self) -> Option<String> {
        within("script output", self.lines.next_line())
            .await
            .expect("read script output")
    }

    /// Waits for the `READY <port>` line a server script prints and returns the port.
    pub async fn ready_port(&mut self) -> u16 {
        loop {
            let line = self.line().await.expect("script ended before READY");
            if let Some(port) = line.strip_prefix("READY ") {
                return port.trim().parse().expect("port after READY");
            }
        }
    }

    /// Every remaining line, once the script exits (bounded by `limit`).
    pub async fn rest(&mut self, limit: std::time::Duration) -> Vec<String> {
        let mut lines = Vec::new();
        super::within_for(limit, "script to finish", async {
            while let Ok(Some(line)) = self.lines.next_line().await {
                lines.push(line);
            }
        })
        .await;
        lines
    }
}
