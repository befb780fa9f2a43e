//! Listing apps, configuration, TLS, logs and thread safety.

use super::*;

#[tokio::test]
async fn list_apps_reads_the_apps() {
    let server = TestServer::start(vec![json(
        200,
        r#"{"apps":[{"app_name":"Terraform","org_name":"Acme","app_id":"a1","org_id":"o1"}]}"#,
    )])
    .await;
    let apps = client_for(&server)
        .list_apps(&CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        apps,
        vec![App {
            app_id: "a1".into(),
            app_name: "Terraform".into(),
            org_id: "o1".into(),
            org_name: Some("Acme".into()),
        }]
    );
    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/account/service/v1/apps")
    );
}

#[test]
fn new_refuses_bad_configuration() {
    let base = "https://api.parallel.ai/account".to_owned();
    type Expectation = fn(&ConfigError) -> bool;
    let cases: Vec<(ClientConfig, Expectation)> = vec![
        (config("http://api.parallel.ai/account".into()), |e| {
            matches!(e, ConfigError::BaseUrlCleartext { .. })
        }),
        (
            ClientConfig {
                credentials: Credentials::token(Secret::new(""), TokenOrigin::Attribute),
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::AccessTokenMissing),
        ),
        (
            ClientConfig {
                request_timeout: Duration::ZERO,
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::ZeroTimeout),
        ),
        (
            ClientConfig {
                user_agent: "bad\nagent".into(),
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::UserAgentMalformed),
        ),
        (
            ClientConfig {
                ca_cert_pem: Some("not a certificate".into()),
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::CaCert { .. }),
        ),
        (
            // Well-formed PEM around a broken certificate: still refused at
            // configuration, not at the first request.
            ClientConfig {
                ca_cert_pem: Some(
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
                ),
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::CaCert { .. }),
        ),
    ];
    for (cfg, expected) in cases {
        let err = AccountClient::new(cfg).unwrap_err();
        assert!(expected(&err), "{err:?}");
        assert_no_secret(&format!("{err} {err:?}"));
    }
    let client = AccountClient::new(ClientConfig::new(Secret::new(TOKEN))).unwrap();
    assert!(format!("{client:?}").contains("https://api.parallel.ai/account"));
    assert_no_secret(&format!("{client:?}"));
}

#[tokio::test]
async fn extra_ca_certificates_are_trusted() {
    let (ca_pem, acceptor) = tls_fixture();
    let apps = r#"{"apps":[]}"#;
    let server = TestServer::start_tls(vec![json(200, apps), json(200, apps)], acceptor).await;
    let base = format!("https://localhost:{}/account", server.port);

    let mut cfg = config(base.clone());
    cfg.ca_cert_pem = Some(ca_pem);
    let trusted = AccountClient::new(cfg).unwrap();
    let apps = trusted.list_apps(&CancellationToken::new()).await.unwrap();
    assert!(apps.is_empty());

    let mut cfg = config(base);
    cfg.max_retries = 0;
    let untrusted = AccountClient::new(cfg).unwrap();
    let err = untrusted
        .list_apps(&CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Connection { sent: false, .. }),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn logs_describe_calls_without_secrets() {
    let logs = Arc::new(Mutex::new(String::new()));
    let subscriber = {
        use tracing_subscriber::layer::SubscriberExt;
        tracing_subscriber::registry().with(capture::Capture(logs.clone()))
    };
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start(vec![
        json(503, "{}"),
        key_reply(),
        json(503, &format!(r#"{{"detail":"{TOKEN}"}}"#)),
        key_reply(),
    ])
    .await;
    // Tests on other threads may register our callsites while this
    // subscriber is being installed, caching "never log" for them. A first
    // call registers every callsite; rebuilding the interest cache then takes
    // this subscriber into account for all of them.
    client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap();
    tracing::callsite::rebuild_interest_cache();
    logs.lock().unwrap().clear();

    let key = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(key.raw_api_key.as_ref().map(Secret::expose), Some(RAW));

    let text = logs.lock().unwrap().clone();
    assert_no_secret(&text);
    assert!(text.contains("DEBUG Parallel API call"), "{text}");
    assert!(
        text.contains("status=503") && text.contains("status=200"),
        "{text}"
    );
    assert!(text.contains("attempt=2"), "{text}");
    assert!(text.contains("elapsed_ms="), "{text}");
    assert!(
        text.contains(&format!("path=/account/service/v1/apps/{APP}/keys")),
        "{text}"
    );
    assert!(text.contains("TRACE Parallel API response"), "{text}");
    assert!(
        text.contains("key_abc") && text.contains("<redacted>"),
        "{text}"
    );
}

/// A CA certificate (PEM) and a TLS acceptor serving a `localhost`
/// certificate it signed.
fn tls_fixture() -> (String, tokio_rustls::TlsAcceptor) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls;

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    (
        ca_cert.pem(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

/// A tracing layer writing `LEVEL message field=value ...` lines to a string.
mod capture {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, Layer};

    pub(super) struct Capture(pub Arc<Mutex<String>>);

    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                let _ = write!(self.0, " {value:?}");
            } else {
                let _ = write!(self.0, " {}={value:?}", field.name());
            }
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "message" {
                let _ = write!(self.0, " {value}");
            } else {
                let _ = write!(self.0, " {}={value}", field.name());
            }
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
            let mut line = Line(event.metadata().level().to_string());
            event.record(&mut line);
            let mut logs = self.0.lock().unwrap();
            logs.push_str(&line.0);
            logs.push('\n');
        }
    }
}
