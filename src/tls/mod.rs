//! TLS set-up in one place, for the client, the server and WebSockets: rustls configs,
//! certificates and the crypto provider.
//!
//! The provider is chosen by cargo feature: `tls-aws-lc` (the default: aws-lc-rs, which
//! negotiates the post-quantum hybrid key exchange `X25519MLKEM768` first, as current
//! browsers do) or `tls-ring` (ring, classical key exchange only; rustls deprecates it
//! for lack of post-quantum support). With neither, the process-wide provider a program
//! installs with `rustls::crypto::CryptoProvider::install_default` is used, and TLS fails
//! with a clear error when there is none. Root certificates: `native-roots` (the
//! platform's store, on by default) and/or `webpki-roots` (Mozilla's, compiled in).
//!
//! ```
//! // The server side: a config from PEM (here a self-signed pair made on the fly).
//! # fn pem() -> (String, String) {
//! #     let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
//! #     (c.cert.pem(), c.key_pair.serialize_pem())
//! # }
//! let (cert_pem, key_pem) = pem();
//! let server = httpstack::tls::server_config_from_pem_bytes(cert_pem.as_bytes(), key_pem.as_bytes())?;
//! assert_eq!(server.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
//!
//! // The client side, trusting that certificate only.
//! let root = httpstack::tls::Certificate::from_pem(cert_pem.as_bytes())?;
//! let client = httpstack::tls::ClientTls::new().platform_roots(false).add_root_certificate(root).build()?;
//! # let _ = client;
//! # Ok::<(), httpstack::Error>(())
//! ```

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

use crate::Error;

mod client;
#[cfg(feature = "server")]
mod server;

pub use client::{Certificate, ClientTls, Identity};
#[cfg(feature = "server")]
pub(crate) use server::with_alpn;
#[cfg(feature = "server")]
pub use server::{server_config_from_pem, server_config_from_pem_bytes};

/// The crypto provider every TLS config of this crate uses: a process-wide default a
/// program installed (`CryptoProvider::install_default`) first, else the one the crate's
/// feature compiles in (`tls-aws-lc`, else `tls-ring`).
///
/// Use it for configs of one's own, so they match the crate's (e.g. a verifier for
/// client certificates):
///
/// ```
/// let provider = httpstack::tls::provider()?;
/// // With the default `tls-aws-lc`, the post-quantum hybrid is offered first.
/// let first = provider.kx_groups[0].name();
/// assert_eq!(first, rustls::NamedGroup::X25519MLKEM768);
/// let _config = rustls::ClientConfig::builder_with_provider(provider)
///     .with_safe_default_protocol_versions()
///     .map_err(|e| httpstack::Error::invalid_input("TLS versions").with_source(e))?;
/// # Ok::<(), httpstack::Error>(())
/// ```
///
/// # Errors
/// An invalid-input error when no provider is installed and neither feature is on.
pub fn provider() -> Result<Arc<CryptoProvider>, Error> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Ok(installed.clone());
    }
    static COMPILED_IN: OnceLock<Option<Arc<CryptoProvider>>> = OnceLock::new();
    COMPILED_IN
        .get_or_init(compiled_in_provider)
        .clone()
        .ok_or_else(|| {
            Error::invalid_input(
                "no TLS crypto provider: enable httpstack's `tls-aws-lc` or `tls-ring` feature, \
                 or install one with rustls::crypto::CryptoProvider::install_default",
            )
        })
}

fn compiled_in_provider() -> Option<Arc<CryptoProvider>> {
    #[cfg(feature = "tls-aws-lc")]
    return Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
    return Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "tls-aws-lc", feature = "tls-ring")))]
    None
}
