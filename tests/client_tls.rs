//! The client over TLS (rustls) against httpstack's server with a test CA made by rcgen.

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use http::{Request, Response, Version};
use httpstack::server::{handler_fn, server_config_from_pem_bytes, Server};
use httpstack::{Body, Certificate, Client};

async fn bounded<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f.into_future())
        .await
        .expect("test step timed out")
}

async fn tls_server(cert: &support::TestCert) -> Server {
    let config =
        server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    Server::bind("127.0.0.1:0")
        .tls(config)
        .serve(handler_fn(|req: Request<httpstack::Body>| async move {
            Response::new(Body::from(format!(
                "{:?} {}",
                req.version(),
                req.uri().path()
            )))
        }))
        .await
        .unwrap()
}

#[tokio::test]
async fn h2_by_alpn_and_http1_when_not_preferred() {
    let cert = support::test_cert();
    let server = tls_server(&cert).await;
    let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{}/x", server.port());
        let client = Client::builder()
            .add_root_certificate(ca.clone())
            .build()
            .unwrap();
        let resp = bounded(client.get(&url)).await.unwrap();
        assert_eq!(
            (resp.version(), resp.text().as_str()),
            (Version::HTTP_2, "HTTP/2.0 /x"),
            "{host}"
        );

        let h1 = Client::builder()
            .add_root_certificate(ca.clone())
            .prefer_http2(false)
            .build()
            .unwrap();
        let resp = bounded(h1.get(&url)).await.unwrap();
        assert_eq!(
            (resp.version(), resp.text().as_str()),
            (Version::HTTP_11, "HTTP/1.1 /x"),
            "{host}"
        );

        let h2 = Client::builder()
            .add_root_certificate(ca.clone())
            .http2_prior_knowledge()
            .build()
            .unwrap();
        assert_eq!(
            bounded(h2.get(&url)).await.unwrap().version(),
            Version::HTTP_2
        );
    }
    server.close().await;
}

#[tokio::test]
async fn unknown_ca_is_a_connect_error_unless_verification_is_off() {
    let cert = support::test_cert();
    let server = tls_server(&cert).await;
    let url = format!("https://localhost:{}/", server.port());

    let other = Certificate::from_pem(support::other_ca_pem().as_bytes()).unwrap();
    let client = Client::builder()
        .platform_roots(false)
        .add_root_certificate(other)
        .build()
        .unwrap();
    let err = bounded(client.get(&url)).await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(
        err.report().contains("UnknownIssuer") || err.report().to_lowercase().contains("unknown"),
        "{err}"
    );

    // The default client trusts only the platform roots: the test CA is unknown there too.
    let err = bounded(httpstack::get(&url)).await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    let insecure = Client::builder()
        .require_ssl_verification(false)
        .build()
        .unwrap();
    assert_eq!(bounded(insecure.get(&url)).await.unwrap().status(), 200);
    server.close().await;
}

#[tokio::test]
async fn certificate_parsing_errors_are_typed() {
    assert!(Certificate::from_pem(b"not a pem")
        .unwrap_err()
        .is_invalid_input());
    assert!(Certificate::from_der(b"").unwrap_err().is_invalid_input());
    let cert = support::test_cert();
    assert_eq!(
        Certificate::from_pem_bundle(cert.cert_pem.as_bytes())
            .unwrap()
            .len(),
        2
    );
    assert!(Certificate::from_der(&cert.ca_der).is_ok());
}

/// A server that requires a client certificate signed by the test CA, and answers with
/// the subject it saw ("client cert" when there was one).
async fn mutual_tls_server(cert: &support::TestCert) -> Server {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = httpstack::tls::provider().unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.ca_der.clone()))
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        std::sync::Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    Server::bind("127.0.0.1:0")
        .tls(std::sync::Arc::new(config))
        .serve(handler_fn(|_req: Request<httpstack::Body>| async move {
            Response::new(Body::from("client cert"))
        }))
        .await
        .unwrap()
}

#[tokio::test]
async fn mutual_tls_with_an_identity_or_a_whole_rustls_config() {
    let cert = support::test_cert();
    let server = mutual_tls_server(&cert).await;
    let ca = Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    let url = format!("https://localhost:{}/", server.port());
    let identity_pem = format!("{}{}", cert.cert_pem, cert.key_pem);
    let identity = httpstack::client::Identity::from_pem(identity_pem.as_bytes()).unwrap();
    assert!(!format!("{identity:?}").contains("PRIVATE"));
    // HTTP/2 and HTTP/1.1 alike.
    for h2 in [true, false] {
        let client = Client::builder()
            .add_root_certificate(ca.clone())
            .identity(identity.clone())
            .prefer_http2(h2)
            .build()
            .unwrap();
        let resp = bounded(client.get(&url)).await.unwrap();
        assert_eq!(resp.text(), "client cert");
    }
    // Without one the server refuses the handshake: a connect error, not a hang.
    let anonymous = Client::builder()
        .add_root_certificate(ca.clone())
        .retry(false)
        .build()
        .unwrap();
    let err = bounded(anonymous.get(&url)).await.unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    // A whole rustls config of one's own: its ALPN list is the client's.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(cert.ca_der.clone()))
        .unwrap();
    let mut config =
        rustls::ClientConfig::builder_with_provider(httpstack::tls::provider().unwrap())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(
                rustls::pki_types::pem::PemObject::pem_slice_iter(cert.cert_pem.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap(),
                rustls::pki_types::pem::PemObject::from_pem_slice(cert.key_pem.as_bytes()).unwrap(),
            )
            .unwrap();
    config.alpn_protocols = vec![b"bogus".to_vec()];
    let custom = Client::builder().tls_config(config).build().unwrap();
    let resp = bounded(custom.get(&url)).await.unwrap();
    assert_eq!(
        (resp.version(), resp.text().as_str()),
        (Version::HTTP_2, "client cert")
    );
    // Bad PEM is a typed error.
    let err = httpstack::client::Identity::from_pem(cert.cert_pem.as_bytes()).unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    server.close().await;
}

/// The default provider (`tls-aws-lc`) negotiates the post-quantum hybrid key exchange
/// with httpstack's own server, as browsers do; `tls-ring` alone cannot.
#[tokio::test]
async fn the_default_provider_negotiates_x25519mlkem768() {
    let cert = support::test_cert();
    let server = tls_server(&cert).await;
    let ca = httpstack::tls::Certificate::from_pem(cert.ca_pem.as_bytes()).unwrap();
    let config = httpstack::tls::ClientTls::new()
        .platform_roots(false)
        .add_root_certificate(ca)
        .alpn(["http/1.1"])
        .build()
        .unwrap();
    let tcp = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls =
        bounded(tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp))
            .await
            .unwrap();
    let group = tls
        .get_ref()
        .1
        .negotiated_key_exchange_group()
        .map(|g| g.name());
    if cfg!(feature = "tls-aws-lc") {
        assert_eq!(group, Some(rustls::NamedGroup::X25519MLKEM768));
    } else {
        assert_eq!(group, Some(rustls::NamedGroup::X25519));
    }
    server.close().await;
}
