//! [`Limits`]: what both ends of a WebSocket share — message and frame size caps and the
//! idle timeouts after the handshake.

use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The default cap on a message and on a frame: 16 MiB (tungstenite's frame default; its
/// 64 MiB message default is lowered to match, so one number bounds memory per message).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 << 20;

/// How much is read from the connection at a time. tungstenite zeroes this much of its
/// buffer before every read, whatever the read returns; its 128 KiB default made that
/// zeroing the largest user-space cost of receiving small messages. At 32 KiB, user CPU
/// per message fell by about a quarter for 16-byte and 4 KiB messages and by a fifth for
/// 64 KiB echoes, and 1 MiB messages cost the same (`benches/ws_load`, CPU time over a
/// fixed message count).
const READ_BUFFER_SIZE: usize = 32 << 10;

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

impl Limits {
    pub(crate) fn tungstenite(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_SIZE)
            .max_message_size(self.max_message_size)
            .max_frame_size(self.max_frame_size)
    }
}
