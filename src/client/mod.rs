//! The client. (in progress)
