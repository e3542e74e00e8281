//! Where access log lines go: a `tracing` event, or one line per request to a writer.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::{Mutex, PoisonError};

/// The `tracing` target of access log lines (and of a failing writer's one warning).
pub const TRACING_TARGET: &str = "httpstack::access_log";

/// Past this, a thread's line buffer is given back rather than kept for the next line.
const KEEP_BUFFER: usize = 16 * 1024;

thread_local! {
    // One buffer per thread, reused, so writing a line allocates nothing in steady state.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The destination of the lines.
pub(crate) enum Sink {
    /// An `info` event with target [`TRACING_TARGET`], the line as its message.
    Tracing,
    /// Each line plus `\n` in one `write_all`, under a lock.
    Writer(Mutex<WriterState>),
}

pub(crate) struct WriterState {
    writer: Box<dyn Write + Send>,
    /// A failed write is reported once; later ones are dropped quietly.
    reported: bool,
}

impl Sink {
    pub(crate) fn writer(writer: impl Write + Send + 'static) -> Sink {
        Sink::Writer(Mutex::new(WriterState {
            writer: Box::new(writer),
            reported: false,
        }))
    }

    /// Writes one line. Never panics: a failing writer is reported once through `tracing`.
    pub(crate) fn emit(&self, line: &dyn fmt::Display) {
        match self {
            Sink::Tracing => tracing::info!(target: TRACING_TARGET, "{}", line),
            Sink::Writer(state) => {
                let written = LINE.try_with(|buf| match buf.try_borrow_mut() {
                    Ok(mut buf) => {
                        buf.clear();
                        Self::write_to(state, &mut buf, line);
                        if buf.capacity() > KEEP_BUFFER {
                            *buf = String::new();
                        }
                    }
                    // Re-entered from inside a writer: use a buffer of its own.
                    Err(_) => Self::write_to(state, &mut String::new(), line),
                });
                // The thread is being torn down and its buffer is gone.
                if written.is_err() {
                    Self::write_to(state, &mut String::new(), line);
                }
            }
        }
    }

    fn write_to(state: &Mutex<WriterState>, buf: &mut String, line: &dyn fmt::Display) {
        if write!(buf, "{line}").is_err() {
            return;
        }
        buf.push('\n');
        // A writer that panicked once still gets the next lines.
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(err) = state.writer.write_all(buf.as_bytes()) {
            if !state.reported {
                state.reported = true;
                tracing::warn!(
                    target: TRACING_TARGET,
                    error = %err,
                    "writing the access log failed; later failures are not reported"
                );
            }
        }
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sink::Tracing => f.write_str("Tracing"),
            Sink::Writer(_) => f.write_str("Writer"),
        }
    }
}
