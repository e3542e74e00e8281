//! What the load benchmarks (`server_load`, `files_load`, `ws_load`) share: child
//! processes pinned to a core and killed on drop, commands run with a time bound, wrk's
//! output parsed, and a process's CPU time.
//! Each bench includes it with `#[path = "load_support/mod.rs"] mod load_support;`, so
//! not every bench uses every item.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Whether commands can be pinned to a core (`taskset` present, enough cores).
#[derive(Clone, Copy, Debug)]
pub struct Pinning {
    pub taskset: bool,
    pub cores: usize,
}

impl Pinning {
    pub fn detect() -> Pinning {
        Pinning {
            taskset: runs("taskset", "--version"),
            cores: core_affinity::get_core_ids().map_or(0, |ids| ids.len()),
        }
    }
}

/// `program` pinned to `core` with `taskset` when the machine has it and the core.
pub fn pinned(tools: &Pinning, core: usize, program: impl AsRef<std::ffi::OsStr>) -> Command {
    if tools.taskset && core < tools.cores {
        let mut command = Command::new("taskset");
        command.arg("-c").arg(core.to_string()).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A child process that is killed and reaped when dropped, also during a panic.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `command` to its end or for at most `limit`, returning its standard output, or
/// its exit status and the end of its standard error.
pub fn run_bounded(mut command: Command, limit: Duration) -> Result<String, String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard(command.spawn().map_err(|e| format!("spawn: {e}"))?);
    let stdout = read_in_background(child.0.stdout.take());
    let stderr = read_in_background(child.0.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < limit => thread::sleep(Duration::from_millis(20)),
            Ok(None) => return Err(format!("still running after {limit:?}; killed")),
            Err(error) => return Err(format!("wait: {error}")),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!("{status}: {}", tail(&stderr, 600)))
    }
}

pub fn read_in_background<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

pub fn tail(text: &str, max: usize) -> &str {
    let text = text.trim();
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Whether `program arg` can be started (its exit status does not matter: `wrk
/// --version` exits 1).
pub fn runs(program: &str, arg: &str) -> bool {
    let mut command = Command::new(program);
    command.arg(arg);
    !matches!(run_bounded(command, Duration::from_secs(10)), Err(e) if e.starts_with("spawn"))
}

/// Ends the process at end-of-file on standard input: the parent closed the pipe, or
/// died. The read loop ends at EOF or on an error.
pub fn exit_when_stdin_closes() {
    thread::spawn(|| {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 64];
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        std::process::exit(0);
    });
}

/// wrk's summary: `N requests in T, ...`, the `99%` line of `--latency`, socket errors
/// and non-2xx/3xx responses.
pub fn parse_wrk(output: &str) -> Result<Sample, String> {
    let mut sample = None;
    let mut p99_us = None;
    let mut errors = 0;
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [count, "requests", "in", time, ..] => {
                let requests = count.parse().map_err(|_| format!("wrk: {line:?}"))?;
                let secs = parse_duration_us(time.trim_end_matches(','))? / 1e6;
                sample = Some((requests, secs));
            }
            ["99%", time] => p99_us = Some(parse_duration_us(time)?),
            ["Socket", "errors:", rest @ ..] => {
                errors += rest
                    .iter()
                    .filter_map(|word| word.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                errors += count.parse::<u64>().unwrap_or(0);
            }
            _ => {}
        }
    }
    let (requests, secs) = sample.ok_or_else(|| format!("wrk: no summary in {output:?}"))?;
    Ok(Sample {
        requests,
        secs,
        p99_us,
        errors,
    })
}

/// A wrk/h2load duration such as `812.00us`, `1.25ms`, `3.00s`, `1.00m`, in microseconds.
pub fn parse_duration_us(text: &str) -> Result<f64, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("bad duration {text:?}"))?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return Err(format!("bad duration unit in {text:?}")),
    };
    Ok(number * scale)
}

pub fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1;
    let (_, value, _) = values.select_nth_unstable_by(rank, f64::total_cmp);
    Some(*value)
}

/// One run of a load generator against one server.
pub struct Sample {
    pub requests: u64,
    pub secs: f64,
    pub p99_us: Option<f64>,
    /// Failed requests: non-2xx responses, socket errors, failed streams.
    pub errors: u64,
}

/// `BENCH_SECS` as a positive whole number of seconds, else `default`.
pub fn measured_secs(default: u64) -> u64 {
    match std::env::var("BENCH_SECS") {
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(secs) if secs >= 0.5 && secs.is_finite() => secs.round() as u64,
            _ => {
                println!("BENCH_SECS={text:?} is not a number of seconds ≥ 1; using {default}");
                default
            }
        },
        Err(_) => default,
    }
}

/// `secs` split into at most `max_rounds` rounds of whole seconds (5, 3 → 2, 2, 1).
pub fn round_lengths(secs: u64, max_rounds: u64) -> Vec<u64> {
    let rounds = secs.clamp(1, max_rounds);
    (0..rounds)
        .map(|i| secs / rounds + u64::from(i < secs % rounds))
        .collect()
}

/// The machine's 1, 5 and 15 minute load averages, for the report.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// The CPU time (user and system, all threads) a process has used so far: `None` for this
/// process, else the child with that id. Zero where `/proc` cannot tell (not Linux).
pub fn process_cpu(pid: Option<u32>) -> Duration {
    let path = pid.map_or_else(
        || "/proc/self/stat".into(),
        |pid| format!("/proc/{pid}/stat"),
    );
    let Ok(stat) = std::fs::read_to_string(path) else {
        return Duration::ZERO;
    };
    // Fields after the command name, which ends with the last ')': state is the first,
    // utime the 12th and stime the 13th, in clock ticks of 10 ms (proc(5)).
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map_or(Vec::new(), |(_, rest)| rest.split(' ').collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
