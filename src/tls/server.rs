//! Server TLS: a rustls `ServerConfig` from PEM files or bytes, and the ALPN list the
//! server offers.
//!
//! ALPN (RFC 7301) is how a TLS client and server agree on HTTP/2 (`h2`) or HTTP/1.1
//! (`http/1.1`); RFC 9113 §3.2 makes `h2` over TLS depend on it.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::server::Protocols;
use crate::Error;

/// A TLS config from a PEM certificate chain file (leaf first) and a PEM private key file
/// (PKCS#8, PKCS#1 or SEC1), offering `h2` and `http/1.1` by ALPN. Pass it to
/// [`ServerBuilder::tls`](crate::server::ServerBuilder::tls).
///
/// # Errors
///
/// A server error when a file cannot be read; an invalid-input error for PEM without a
/// certificate or a private key, or a key that does not fit the certificate.
pub fn server_config_from_pem(
    cert_pem_path: impl AsRef<Path>,
    key_pem_path: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, Error> {
    let read = |path: &Path, what: &str| {
        std::fs::read(path).map_err(|err| {
            Error::server(err)
                .with_message(format!("cannot read the {what} file {}", path.display()))
        })
    };
    let cert = read(cert_pem_path.as_ref(), "certificate")?;
    let key = read(key_pem_path.as_ref(), "private key")?;
    server_config_from_pem_bytes(&cert, &key)
}

/// Like [`server_config_from_pem`], from PEM bytes already in memory.
///
/// # Errors
///
/// An invalid-input error for PEM without a certificate or a private key, or a key that
/// does not fit the certificate.
pub fn server_config_from_pem_bytes(cert: &[u8], key: &[u8]) -> Result<Arc<ServerConfig>, Error> {
    let chain = rustls_pemfile::certs(&mut &*cert)
        .collect::<Result<Vec<CertificateDer<'static>>, _>>()
        .map_err(|err| Error::invalid_input("malformed certificate PEM").with_source(err))?;
    if chain.is_empty() {
        return Err(Error::invalid_input(
            "no certificate found in the certificate PEM",
        ));
    }
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &*key)
        .map_err(|err| Error::invalid_input("malformed private key PEM").with_source(err))?
        .ok_or_else(|| Error::invalid_input("no private key found in the key PEM"))?;

    let provider = super::provider()?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::server(err).with_message("TLS protocol versions"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|err| {
            Error::invalid_input("the certificate and private key are not a usable pair")
                .with_source(err)
        })?;
    config.alpn_protocols = alpn_protocols(Protocols::Auto);
    Ok(Arc::new(config))
}

/// The config the server uses: the user's own ALPN list is kept; an empty one gets the
/// protocols this server speaks, `h2` first so HTTP/2 clients get HTTP/2.
pub(crate) fn with_alpn(config: Arc<ServerConfig>, protocols: Protocols) -> Arc<ServerConfig> {
    if !config.alpn_protocols.is_empty() {
        return config;
    }
    let mut config = (*config).clone();
    config.alpn_protocols = alpn_protocols(protocols);
    Arc::new(config)
}

fn alpn_protocols(protocols: Protocols) -> Vec<Vec<u8>> {
    let (h2, http11) = (b"h2".to_vec(), b"http/1.1".to_vec());
    match protocols {
        Protocols::Auto => vec![h2, http11],
        Protocols::Http1Only => vec![http11],
        Protocols::Http2Only => vec![h2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_pem_without_certificate_or_key() {
        let cases: [(&str, &[u8], &[u8]); 3] = [
            ("empty cert", b"", b""),
            ("garbage cert", b"not pem at all", b""),
            (
                "cert but no key",
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                b"",
            ),
        ];
        for (name, cert, key) in cases {
            let err = server_config_from_pem_bytes(cert, key).expect_err(name);
            assert!(err.is_invalid_input(), "case {name}: {err}");
        }
    }

    #[test]
    fn missing_file_is_a_server_error() {
        let err = server_config_from_pem("/nonexistent/cert.pem", "/nonexistent/key.pem")
            .expect_err("no such file");
        assert_eq!(err.kind(), &crate::ErrorKind::Server);
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }

    #[test]
    fn builds_from_rcgen_pem_and_keeps_user_alpn() {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .expect("rcgen certificate");
        let config = server_config_from_pem_bytes(
            generated.cert.pem().as_bytes(),
            generated.key_pair.serialize_pem().as_bytes(),
        )
        .expect("valid PEM pair");
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );

        let mut empty = (*config).clone();
        empty.alpn_protocols.clear();
        let filled = with_alpn(Arc::new(empty), Protocols::Http2Only);
        assert_eq!(filled.alpn_protocols, vec![b"h2".to_vec()]);

        let mut custom = (*config).clone();
        custom.alpn_protocols = vec![b"http/1.1".to_vec()];
        let kept = with_alpn(Arc::new(custom), Protocols::Auto);
        assert_eq!(kept.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
