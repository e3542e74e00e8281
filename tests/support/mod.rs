//! Shared helpers for the integration tests: real third-party peers and test TLS
//! material. Each test crate includes this module with `mod support;`, so each compiles
//! its own copy and uses only part of it; hence the `allow`s.
#![allow(dead_code, unused_imports)]

pub mod httpbin;
pub mod peers;
pub mod tls;

pub use httpbin::{httpbin, raw_get, Httpbin};
pub use tls::{other_ca_pem, test_cert, TestCert};
