//! Test certificates, generated at test time with rcgen (STYLE.md: no key material in the
//! repository).
//!
//! [`test_cert`] gives a small PKI the way a real deployment has one: a self-signed CA and
//! a leaf for `localhost` and `127.0.0.1` signed by it, so a client that trusts `ca_pem`
//! verifies the server exactly as it would in production (chain building, SAN match),
//! rather than trusting the leaf itself. [`other_ca_pem`] is a CA that signed nothing we
//! serve, for the unknown-issuer failure. [`tls_connect`] is a rustls client connection
//! for tests that speak to a TLS server directly.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

use super::within;

/// A CA and a server leaf it signed, all PEM except `ca_der`.
#[derive(Clone, Debug)]
pub struct TestCert {
    /// The CA certificate: what a client adds to its trust roots.
    pub ca_pem: String,
    /// The chain a server sends: the leaf first, then the CA.
    pub cert_pem: String,
    /// The leaf's private key (PKCS#8).
    pub key_pem: String,
    /// The CA certificate in DER, for APIs that take raw certificates.
    pub ca_der: Vec<u8>,
}

/// A fresh CA plus a leaf for DNS `localhost` and IP `127.0.0.1` signed by it.
pub fn test_cert() -> TestCert {
    let (ca, ca_key) = new_ca("httpstack test CA");

    let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("valid SAN names");
    leaf.distinguished_name = common_name("localhost");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // ClientAuth too, so the same leaf serves mutual-TLS tests.
    leaf.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let leaf_key = KeyPair::generate().expect("generate leaf key");
    let leaf = leaf
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("sign leaf with test CA");

    TestCert {
        ca_pem: ca.pem(),
        cert_pem: format!("{}{}", leaf.pem(), ca.pem()),
        key_pem: leaf_key.serialize_pem(),
        ca_der: ca.der().to_vec(),
    }
}

/// A CA that signed none of [`test_cert`]'s leaves: trusting only this one, a client must
/// reject the server with an unknown-issuer error.
pub fn other_ca_pem() -> String {
    new_ca("httpstack other test CA").0.pem()
}

fn new_ca(name: &str) -> (Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("empty SAN list");
    params.distinguished_name = common_name(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("generate CA key");
    let cert = params.self_signed(&key).expect("self-sign test CA");
    (cert, key)
}

fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

/// Opens a TLS connection to `addr` as `localhost`, trusting only `ca_der` and offering
/// only the ALPN protocol `alpn` (the handshake is bounded by [`within`]).
pub async fn tls_connect(
    addr: SocketAddr,
    ca_der: &[u8],
    alpn: &[u8],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca_der.to_vec()))
        .expect("test CA");
    let provider = httpstack::tls::provider().expect("the crate's TLS provider");
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("server name");
    within(
        "TLS handshake",
        tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    .expect("TLS handshake")
}
