//! The plugin's launch contract, checked by launching the binary by hand:
//! with Terraform's magic cookie and a client certificate it serves gRPC
//! over mutual TLS and refuses a client without that certificate; without
//! the cookie it explains itself to the human who ran it.
//!
//! Every terraform run in the other tests already goes through the mTLS
//! path (Terraform always sets PLUGIN_CLIENT_CERT); this test checks the
//! refusal, which Terraform never exercises.

use crate::harness::PROVIDER_BINARY;
use base64::Engine;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use tfplugin::handshake::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio_rustls::TlsConnector;

/// The client preface of HTTP/2 followed by an empty SETTINGS frame: what
/// gRPC sends first. A server that accepted the connection answers with
/// its own SETTINGS frame.
const HTTP2_PREFACE_AND_SETTINGS: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
const HTTP2_SETTINGS_FRAME_TYPE: u8 = 0x4;

/// A client certificate shaped like the one Terraform generates: ECDSA
/// P-521 with SHA-512, self-signed, marked as a CA.
struct ClientIdentity {
    pem: String,
    der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

fn terraform_like_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("client key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("client certificate");
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().clone(),
        key_der: key.serialize_der(),
    }
}

/// The provider process, killed when the test ends whatever happens.
struct Plugin(Child);

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Handshake {
    socket: String,
    server_cert_der: Vec<u8>,
}

fn launch_like_terraform(client_cert_pem: &str) -> (Plugin, Handshake) {
    let child = Command::new(PROVIDER_BINARY)
        .env_clear()
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", client_cert_pem)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the provider binary");
    let mut plugin = Plugin(child);
    let stdout = plugin.0.stdout.take().expect("piped stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the handshake line");
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    let [core, protocol, network, address, transport, cert] = fields.as_slice() else {
        panic!("the handshake line has not six fields: {line:?}");
    };
    assert_eq!(
        (*core, *protocol, *network, *transport),
        ("1", "6", "unix", "grpc"),
        "handshake line {line:?}"
    );
    assert!(
        !cert.is_empty(),
        "with PLUGIN_CLIENT_CERT set the server must announce its certificate"
    );
    let server_cert_der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(cert)
        .expect("the announced certificate is unpadded base64");
    let handshake = Handshake {
        socket: (*address).to_owned(),
        server_cert_der,
    };
    (plugin, handshake)
}

/// Accepts whatever certificate the server shows (it is checked against
/// the handshake line separately) but still checks the handshake
/// signatures, so the TLS exchange itself is genuine.
#[derive(Debug)]
struct AnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServerCert {
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

fn client_config(identity: Option<&ClientIdentity>) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServerCert(provider)));
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(identity) => builder
            .with_client_auth_cert(
                vec![identity.der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone())),
            )
            .expect("client certificate accepted by rustls"),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// What the server answered to the HTTP/2 preface, or why nothing came.
enum Exchange {
    Answered {
        first_bytes: Vec<u8>,
        server_cert: Vec<u8>,
    },
    Refused(String),
}

async fn speak_http2(socket: &str, identity: Option<&ClientIdentity>) -> Exchange {
    let stream = UnixStream::connect(socket)
        .await
        .expect("connect to the plugin socket");
    let server_name = ServerName::try_from("localhost").expect("server name");
    let mut tls = match TlsConnector::from(client_config(identity))
        .connect(server_name, stream)
        .await
    {
        Ok(tls) => tls,
        Err(err) => return Exchange::Refused(format!("TLS handshake failed: {err}")),
    };
    let server_cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|cert| cert.as_ref().to_vec())
        .unwrap_or_default();
    // With TLS 1.3 the client finishes its side of the handshake before the
    // server has judged the client certificate; the verdict arrives as an
    // alert on the first read.
    if let Err(err) = tls.write_all(HTTP2_PREFACE_AND_SETTINGS).await {
        return Exchange::Refused(format!("write failed: {err}"));
    }
    let mut buffer = vec![0u8; 256];
    match tls.read(&mut buffer).await {
        Ok(0) => Exchange::Refused("closed without an answer".to_owned()),
        Ok(n) => Exchange::Answered {
            first_bytes: buffer[..n].to_vec(),
            server_cert,
        },
        Err(err) => Exchange::Refused(format!("read failed: {err}")),
    }
}

#[test]
fn the_plugin_serves_only_the_client_certificate_terraform_announced() {
    let terraform = terraform_like_identity();
    let (_plugin, handshake) = launch_like_terraform(&terraform.pem);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    // Control: Terraform's own certificate gets a gRPC (HTTP/2) server that
    // shows the certificate announced in the handshake line.
    let terraform_is_served = || match runtime
        .block_on(speak_http2(&handshake.socket, Some(&terraform)))
    {
        Exchange::Answered {
            first_bytes,
            server_cert,
        } => {
            assert!(
                first_bytes.len() >= 9 && first_bytes[3] == HTTP2_SETTINGS_FRAME_TYPE,
                "expected an HTTP/2 SETTINGS frame, got {first_bytes:?}"
            );
            assert_eq!(
                server_cert, handshake.server_cert_der,
                "the server must present the certificate it announced"
            );
        }
        Exchange::Refused(why) => panic!("the plugin refused Terraform's own certificate: {why}"),
    };
    terraform_is_served();

    // Any other local process: no client certificate, no service.
    match runtime.block_on(speak_http2(&handshake.socket, None)) {
        Exchange::Refused(_) => {}
        Exchange::Answered { first_bytes, .. } => panic!(
            "a client without a certificate was served: got {} bytes",
            first_bytes.len()
        ),
    }

    // Nor with a certificate of its own making.
    let stranger = terraform_like_identity();
    match runtime.block_on(speak_http2(&handshake.socket, Some(&stranger))) {
        Exchange::Refused(_) => {}
        Exchange::Answered { .. } => panic!("a client with another certificate was served"),
    }

    // The refusals were refusals, not a crashed server.
    terraform_is_served();
}

#[test]
fn the_binary_run_by_a_human_explains_itself_and_fails() {
    let output = Command::new(PROVIDER_BINARY)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("run the provider binary");
    assert!(
        !output.status.success(),
        "without the magic cookie the binary must fail"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Terraform starts this program by itself")
            && stderr.contains("source = \"parallel-web/parallel\""),
        "expected a human explanation on stderr, got: {stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "no handshake line may be printed: {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn version_names_the_provider_and_its_protocol() {
    let output = Command::new(PROVIDER_BINARY)
        .arg("--version")
        .output()
        .expect("run the provider binary");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!(
            "terraform-provider-parallel {}",
            env!("CARGO_PKG_VERSION")
        )) && stdout.contains("plugin protocol 6."),
        "unexpected --version output: {stdout}"
    );
}

/// A Ctrl-C reaches the provider's process group too; Terraform relays it
/// as StopProvider, so the provider itself must not die of it (it could be
/// between the API's answer and the state write).
#[test]
fn the_plugin_survives_sigint_while_serving() {
    let terraform = terraform_like_identity();
    let (plugin, handshake) = launch_like_terraform(&terraform.pem);
    let status = Command::new("kill")
        .args(["-INT", &plugin.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(speak_http2(&handshake.socket, Some(&terraform))) {
        Exchange::Answered { .. } => {}
        Exchange::Refused(why) => panic!("the plugin stopped serving after SIGINT: {why}"),
    }
    let mut plugin = plugin;
    assert!(
        plugin.0.try_wait().expect("poll the plugin").is_none(),
        "the plugin exited after SIGINT"
    );
}
