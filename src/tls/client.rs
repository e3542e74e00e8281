//! Client TLS: the root certificates a client trusts, its own identity for mutual TLS,
//! and [`ClientTls`], the one place a rustls `ClientConfig` is made for the HTTP client,
//! WebSocket clients and anyone who dials TLS themselves (an `h2::Session` over TLS).

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::Error;

/// A TLS root certificate to trust in addition to (or instead of) the platform's.
#[derive(Clone)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl Certificate {
    /// A certificate from DER bytes.
    pub fn from_der(der: &[u8]) -> Result<Certificate, Error> {
        if der.is_empty() {
            return Err(Error::invalid_input("empty DER certificate"));
        }
        Ok(Certificate {
            der: CertificateDer::from(der.to_vec()),
        })
    }

    /// The first certificate of a PEM document.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, Error> {
        Certificate::from_pem_bundle(pem)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid_input("no certificate found in the PEM data"))
    }

    /// Every certificate of a PEM bundle.
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<Certificate>, Error> {
        let mut reader = pem;
        rustls_pemfile::certs(&mut reader)
            .map(|c| c.map(|der| Certificate { der }))
            .collect::<Result<_, _>>()
            .map_err(|e| Error::invalid_input("invalid PEM certificate").with_source(e))
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificate({} bytes DER)", self.der.len())
    }
}

/// A client certificate chain and its private key, for mutual TLS
/// ([`ClientTls::identity`], or `ClientBuilder::identity` with the `client` feature). `Debug` never shows the
/// key.
///
/// ```no_run
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pem = std::fs::read("client.pem")?; // the certificate(s), then the key
/// let identity = httpstack::tls::Identity::from_pem(&pem)?;
/// let config = httpstack::tls::ClientTls::new().identity(identity).build()?;
/// # Ok(()) }
/// ```
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.chain.len())
            .field("key", &"<hidden>")
            .finish()
    }
}

impl Identity {
    /// From one PEM document holding the certificate chain (leaf first) and the private
    /// key (PKCS#8, PKCS#1 or SEC1), in any order.
    ///
    /// # Errors
    /// An invalid-input error for PEM without a certificate or a key, or that does not
    /// parse.
    pub fn from_pem(pem: &[u8]) -> Result<Identity, Error> {
        Identity::from_pem_parts(pem, pem)
    }

    /// From the certificate chain's PEM (leaf first) and the private key's PEM, apart.
    ///
    /// # Errors
    /// As for [`Identity::from_pem`].
    pub fn from_pem_parts(certificates: &[u8], key: &[u8]) -> Result<Identity, Error> {
        let chain = rustls_pemfile::certs(&mut &*certificates)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::invalid_input("invalid client certificate PEM").with_source(e))?;
        if chain.is_empty() {
            return Err(Error::invalid_input(
                "no certificate found in the client identity PEM",
            ));
        }
        let key = rustls_pemfile::private_key(&mut &*key)
            .map_err(|e| Error::invalid_input("invalid client key PEM").with_source(e))?
            .ok_or_else(|| {
                Error::invalid_input("no private key found in the client identity PEM")
            })?;
        Ok(Identity { chain, key })
    }
}

/// The TLS settings of a client, and the rustls `ClientConfig` they make
/// ([`build`](ClientTls::build)): what `ClientBuilder`'s TLS setters and
/// `ws::Connect`'s fill in, public for code that dials TLS itself.
///
/// By default it trusts the platform's roots (feature `native-roots`) and Mozilla's
/// (feature `webpki-roots`), whichever are compiled in, and verifies certificates. The
/// crypto is [`provider`](super::provider)'s.
///
/// ```
/// use httpstack::tls::ClientTls;
///
/// let config = ClientTls::new().alpn(["h2"]).build()?;
/// assert_eq!(config.alpn_protocols, [b"h2".to_vec()]);
/// // `curl --insecure`: any certificate, handshake signatures still checked.
/// let _insecure = ClientTls::new().verify(false).build()?;
/// # Ok::<(), httpstack::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientTls {
    pub(crate) platform_roots: bool,
    pub(crate) extra_roots: Vec<Certificate>,
    pub(crate) verify: bool,
    pub(crate) identity: Option<Identity>,
    /// A whole rustls config from the user, used as it is (but for ALPN).
    pub(crate) custom: Option<Arc<ClientConfig>>,
    pub(crate) alpn: Vec<Vec<u8>>,
}

impl Default for ClientTls {
    fn default() -> Self {
        ClientTls {
            platform_roots: true,
            extra_roots: Vec::new(),
            verify: true,
            identity: None,
            custom: None,
            alpn: Vec::new(),
        }
    }
}

impl ClientTls {
    /// The defaults: the compiled-in roots, certificates verified, no client identity.
    pub fn new() -> ClientTls {
        ClientTls::default()
    }

    /// Trusts `cert` too.
    pub fn add_root_certificate(mut self, cert: Certificate) -> ClientTls {
        self.extra_roots.push(cert);
        self
    }

    /// Whether the compiled-in roots (platform and/or Mozilla's) are trusted (default
    /// true); with `false` only [`add_root_certificate`](Self::add_root_certificate)'s are.
    pub fn platform_roots(mut self, on: bool) -> ClientTls {
        self.platform_roots = on;
        self
    }

    /// HTTP.jl `require_ssl_verification` (default true). `false` accepts any
    /// certificate; handshake signatures are still checked.
    pub fn verify(mut self, on: bool) -> ClientTls {
        self.verify = on;
        self
    }

    /// The client certificate and key for mutual TLS.
    pub fn identity(mut self, identity: Identity) -> ClientTls {
        self.identity = Some(identity);
        self
    }

    /// The ALPN protocols offered, most preferred first (default none; the HTTP client
    /// sets its own).
    pub fn alpn<I, P>(mut self, protocols: I) -> ClientTls
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// The rustls config.
    ///
    /// # Errors
    /// An invalid-input error for a root certificate rustls refuses, a client identity
    /// whose key does not fit its certificate, or no crypto provider (see
    /// [`provider`](super::provider)).
    pub fn build(&self) -> Result<ClientConfig, Error> {
        let mut config = self.config()?;
        if !self.alpn.is_empty() {
            config.alpn_protocols = self.alpn.clone();
        }
        Ok(config)
    }

    fn config(&self) -> Result<ClientConfig, Error> {
        let options = self;
        if let Some(custom) = &options.custom {
            let mut config = (**custom).clone();
            // The connector offers ALPN by the client's protocol setting.
            config.alpn_protocols.clear();
            return Ok(config);
        }
        let provider = super::provider()?;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::invalid_input("TLS set-up failed").with_source(e))?;
        let builder = if options.verify {
            let mut roots = if options.platform_roots {
                compiled_in_roots().clone()
            } else {
                RootCertStore::empty()
            };
            for cert in &options.extra_roots {
                roots
                    .add(cert.der.clone())
                    .map_err(|e| Error::invalid_input("invalid root certificate").with_source(e))?;
            }
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        };
        match &options.identity {
            Some(identity) => builder
                .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                .map_err(|e| {
                    Error::invalid_input("the client certificate and key are not a usable pair")
                        .with_source(e)
                }),
            None => Ok(builder.with_no_client_auth()),
        }
    }
}

/// The compiled-in roots (`native-roots`: the platform's; `webpki-roots`: Mozilla's), read
/// once per process: reading and parsing the platform's takes milliseconds, and every
/// client would otherwise pay it.
fn compiled_in_roots() -> &'static RootCertStore {
    use std::sync::OnceLock;
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        #[allow(unused_mut)] // without a roots feature nothing is added
        let mut roots = RootCertStore::empty();
        #[cfg(feature = "native-roots")]
        {
            let found = rustls_native_certs::load_native_certs();
            for err in &found.errors {
                tracing::debug!(target: "httpstack::tls", "skipping a platform certificate: {err}");
            }
            roots.add_parsable_certificates(found.certs);
        }
        #[cfg(feature = "webpki-roots")]
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        roots
    })
}

/// `require_ssl_verification(false)`: any certificate is accepted, but handshake
/// signatures are still checked so the session keys are the peer's.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
