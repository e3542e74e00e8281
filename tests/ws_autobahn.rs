//! The Autobahn WebSocket testsuite, both roles, through PyPI `kosoku` (Autobahn's case
//! files under Python 3, Autobahn-format reports):
//!
//! - fuzzingclient: kosoku drives httpstack's echo server ([`ws::listen`]);
//! - fuzzingserver: httpstack's client ([`ws::open`]) runs every case against kosoku.
//!
//! Groups 1–7, 9–10, and 12–13 (permessage-deflate with every offer and answer the suite
//! makes: context takeover on and off, window bits 9 and 15, several offers) run. Every
//! case must end OK, NON-STRICT or INFORMATIONAL; the counts are printed, per group.
//! Cases run in parallel (`-p`) to keep the big 9.x and 12.x cases within time.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use httpstack::ws::{self, WebSocket};
use support::python_peers::venv_tool;
use support::within_for;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The case groups run: all but 8 and 11 (which the suite does not have).
const GROUPS: &[&str] = &[
    "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*",
];
/// Behaviours that pass.
const PASSING: &[&str] = &["OK", "NON-STRICT", "INFORMATIONAL"];
/// The bound on one whole role's run (12.x and 13.x move about 11 GB through DEFLATE
/// each way).
const RUN_LIMIT: Duration = Duration::from_secs(900);

fn selection() -> Vec<String> {
    GROUPS
        .iter()
        .flat_map(|g| ["-i".to_string(), g.to_string()])
        .collect()
}

/// Reads kosoku's `index.json`, prints the counts, and fails on any case that did not
/// pass (naming it, with its close behaviour).
fn check_report(role: &str, outdir: &Path) {
    let index = std::fs::read_to_string(outdir.join("index.json"))
        .unwrap_or_else(|e| panic!("{role}: no index.json in {}: {e}", outdir.display()));
    let index: serde_json::Value = serde_json::from_str(&index).expect("index.json is JSON");
    let agents = index.as_object().expect("index.json maps agents");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut groups: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut total = 0;
    for (agent, cases) in agents {
        for (case, result) in cases.as_object().expect("cases by id") {
            total += 1;
            let behavior = result["behavior"].as_str().unwrap_or("?").to_owned();
            let close = result["behaviorClose"].as_str().unwrap_or("?");
            if !PASSING.contains(&behavior.as_str()) || !PASSING.contains(&close) {
                failures.push(format!(
                    "{agent} case {case}: {behavior} (close {close}, remote code {})",
                    result["remoteCloseCode"]
                ));
            }
            let group = case.split('.').next().unwrap_or("?").to_owned();
            *groups
                .entry(group)
                .or_default()
                .entry(behavior.clone())
                .or_default() += 1;
            *counts.entry(behavior).or_default() += 1;
        }
    }
    println!("autobahn {role}: {total} cases: {counts:?}");
    for (group, counts) in &groups {
        println!("autobahn {role}: group {group}: {counts:?}");
    }
    // Groups 1–7, 9 and 10 hold 301 cases, 12 and 13 another 216.
    assert!(total >= 517, "{role}: only {total} cases ran");
    assert!(
        failures.is_empty(),
        "{role}: failing cases:\n{}",
        failures.join("\n")
    );
    for group in ["12", "13"] {
        let ok = groups
            .get(group)
            .and_then(|g| g.get("OK"))
            .copied()
            .unwrap_or(0);
        assert!(
            ok > 0,
            "{role}: no compression case of group {group} ran OK"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzingclient_against_our_server() {
    let Some(kosoku) = venv_tool("kosoku", "kosoku") else {
        return;
    };
    let server = ws::listen("127.0.0.1:0", |mut ws: WebSocket| async move {
        while let Some(message) = ws.next().await {
            ws.send(message?).await?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let outdir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let run = Command::new(&kosoku)
        .args(["-m", "fuzzingclient", "-p", "4", "-o"])
        .arg(outdir.path())
        .args(selection())
        .arg(format!("ws://{}", server.server_addr()))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = within_for(RUN_LIMIT, "kosoku fuzzingclient", run)
        .await
        .unwrap();
    println!(
        "kosoku fuzzingclient: {} in {:?}\n{}{}",
        output.status,
        started.elapsed(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    check_report("fuzzingclient (our server)", outdir.path());
    server.force_close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzingserver_against_our_client() {
    let Some(kosoku) = venv_tool("kosoku", "kosoku") else {
        return;
    };
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let outdir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = Command::new(&kosoku)
        .args(["-m", "fuzzingserver", "-o"])
        .arg(outdir.path())
        .args(selection())
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let listening = within_for(Duration::from_secs(30), "kosoku listening", async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            eprintln!("kosoku: {line}");
            if let Some(url) = line.split("listening on ").nth(1) {
                return url.trim().to_owned();
            }
        }
        panic!("kosoku ended before listening");
    })
    .await;
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            eprintln!("kosoku: {line}");
        }
    });

    within_for(RUN_LIMIT, "our client through every case", async {
        let mut ws = ws::open(format!("{listening}/getCaseCount")).await.unwrap();
        let count: usize = ws
            .receive()
            .await
            .unwrap()
            .as_text()
            .unwrap()
            .parse()
            .unwrap();
        drop(ws);
        // Four cases at a time, as the other role runs them (`-p 4`).
        futures_util::stream::iter(1..=count)
            .for_each_concurrent(4, |case| {
                let url = format!("{listening}/runCase?case={case}&agent=httpstack");
                async move {
                    // A case may refuse or break the connection: that is its business.
                    let Ok(mut ws) = ws::open(&url).await else {
                        return;
                    };
                    while let Some(Ok(message)) = ws.next().await {
                        if ws.send(message).await.is_err() {
                            break;
                        }
                    }
                }
            })
            .await;
        let mut ws = ws::open(format!("{listening}/updateReports?agent=httpstack"))
            .await
            .unwrap();
        let _ = ws.close(1000, "").await;
    })
    .await;
    let status = within_for(Duration::from_secs(60), "kosoku to finish", child.wait())
        .await
        .unwrap();
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        use tokio::io::AsyncReadExt;
        let _ = out.read_to_string(&mut stdout).await;
    }
    println!(
        "kosoku fuzzingserver: {status} in {:?}\n{stdout}",
        started.elapsed()
    );
    check_report("fuzzingserver (our client)", outdir.path());
}
