//! [`Limits`]: what both ends of a WebSocket share — message and frame size caps and the
//! idle timeouts after the handshake.

use std::time::Duration;

/// The default cap on a message and on a frame: 16 MiB (tungstenite's frame default; its
/// 64 MiB message default is lowered to match, so one number bounds memory per message).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 << 20;

/// Settings of one WebSocket after its handshake.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_message_size: Option<usize>,
    pub(crate) max_frame_size: Option<usize>,
    pub(crate) read_idle_timeout: Option<Duration>,
    pub(crate) write_idle_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: Some(DEFAULT_MAX_MESSAGE_SIZE),
            max_frame_size: Some(DEFAULT_MAX_MESSAGE_SIZE),
            read_idle_timeout: None,
            write_idle_timeout: None,
        }
    }
}
