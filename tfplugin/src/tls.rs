//! Mutual TLS as go-plugin's AutoMTLS expects it: Terraform hands us its
//! client certificate in `PLUGIN_CLIENT_CERT`; we answer with a fresh
//! self-signed server certificate in the handshake line, and accept only
//! connections that present exactly Terraform's certificate. Any other local
//! process that finds the socket cannot talk to a configured provider.

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use std::sync::Arc;

/// Why mutual TLS with Terraform could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Terraform's `PLUGIN_CLIENT_CERT` held no certificate.
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate")]
    NoClientCertificate,
    /// Terraform's `PLUGIN_CLIENT_CERT` could not be read as PEM.
    #[error("PLUGIN_CLIENT_CERT is not valid PEM: {0}")]
    BadClientCertificate(std::io::Error),
    /// The server's own self-signed certificate could not be made.
    #[error("cannot make the server certificate: {0}")]
    ServerCertificate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("cannot set up TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server side of the plugin connection.
pub struct PluginTls {
    pub config: Arc<ServerConfig>,
    /// DER of our certificate, for the handshake line.
    pub server_cert_der: Vec<u8>,
}

/// The crypto provider for the plugin connection. aws-lc-rs, because
/// Terraform's certificate is ECDSA P-521 signed with SHA-512, which the
/// ring provider cannot verify.
fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

pub fn server_config(client_cert_pem: &str) -> Result<PluginTls, TlsError> {
    let pinned = first_pem_certificate(client_cert_pem)?;
    let provider = crypto_provider();

    // A fresh key for every process, like go-plugin: it lives only as long
    // as this plugin does. P-256 keeps start-up fast.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key)?;
    let server_cert_der = cert.der().to_vec();

    let verifier = PinnedClientCert {
        pinned,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?;
    // gRPC-Go refuses TLS servers that do not negotiate HTTP/2 by ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(PluginTls {
        config: Arc::new(config),
        server_cert_der,
    })
}

fn first_pem_certificate(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    let mut reader = pem.as_bytes();
    match rustls_pemfile::certs(&mut reader).next() {
        Some(Ok(cert)) => Ok(cert),
        Some(Err(err)) => Err(TlsError::BadClientCertificate(err)),
        None => Err(TlsError::NoClientCertificate),
    }
}

/// Accepts exactly one client certificate, byte for byte, and checks that
/// the peer holds its private key (the handshake signature). No chain or
/// CA logic: Terraform's certificate is self-signed and marked as a CA,
/// which a WebPKI verifier would reject as a client certificate.
#[derive(Debug)]
struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "client certificate is not the one Terraform announced".to_owned(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A client certificate shaped like Terraform's: ECDSA P-521, SHA-512,
    /// self-signed, CA:TRUE.
    pub(crate) fn terraform_like_client_cert() -> (String, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("key");
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("p");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("cert");
        (cert.pem(), key)
    }

    #[test]
    fn builds_with_a_p521_client_certificate() {
        let (pem, _) = terraform_like_client_cert();
        let tls = server_config(&pem).expect("config");
        assert!(!tls.server_cert_der.is_empty());
        assert_eq!(tls.config.alpn_protocols, vec![b"h2".to_vec()]);
    }

    #[test]
    fn rejects_garbage_instead_of_pem() {
        assert!(matches!(
            server_config("not a certificate"),
            Err(TlsError::NoClientCertificate)
        ));
    }

    #[test]
    fn verifier_accepts_p521_sha512_signatures() {
        let provider = crypto_provider();
        assert!(
            provider
                .signature_verification_algorithms
                .supported_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }
}
