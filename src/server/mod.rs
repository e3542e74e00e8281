//! The server. (in progress)
