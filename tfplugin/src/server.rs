//! The plugin process: checks how it was launched, listens on a private unix
//! socket, announces itself to Terraform and serves until told to shut down.

use super::conn::PluginConn;
use super::dispatch::Dispatch;
use super::framework::Provider;
use super::go_plugin::{Broker, Controller, Health, Stdio};
use super::handshake::{self, HandshakeError};
use super::lifecycle::{self, Lifeline, StopSignal};
use super::proto::{go_plugin as go_pb, health as health_pb, tfplugin6 as tf_pb};
use super::tls;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

/// Why mutual TLS with Terraform could not be set up (inside [`ServeError::Tls`]).
pub use crate::tls::TlsError;

/// How long in-flight calls get to finish after Shutdown before the process
/// ends anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
/// How long, by default, calls that act (applies) may run on once
/// Terraform is gone; see [`ServeOptions::drain_grace`].
pub const DEFAULT_DRAIN_GRACE: Duration = Duration::from_secs(30);
/// A peer that opens the socket and says nothing is dropped after this.
const TLS_HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// Why the server could not start, or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The process was not launched the way Terraform launches plugins.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The private socket directory or the socket could not be made.
    #[error("cannot create the plugin socket: {0}")]
    Socket(std::io::Error),
    /// Terraform's client certificate (`PLUGIN_CLIENT_CERT`) is unusable,
    /// or the server's own certificate could not be made.
    #[error("cannot set up mutual TLS with Terraform: {0}")]
    Tls(#[from] TlsError),
    /// The handshake line could not be written to stdout.
    #[error("cannot write the handshake line: {0}")]
    Stdout(std::io::Error),
    /// The gRPC server failed while serving.
    #[error("gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
    /// The tokio runtime could not be built.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// How [`run`] and [`serve`] serve; `ServeOptions::default()` is what
/// Terraform's ordinary launch needs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Serve without the magic cookie or TLS and print TF_REATTACH_PROVIDERS,
    /// so the provider can run under a debugger.
    pub debug: bool,
    /// Registry address Terraform knows the provider by (for reattach).
    pub provider_address: String,
    /// When Terraform is gone (killed: its process exited without a
    /// Shutdown) or has sent Shutdown, applies already running get this
    /// long to reach their answer before the process exits. Set it a few
    /// seconds beyond the longest single request the provider makes.
    pub drain_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            debug: false,
            provider_address: String::new(),
            drain_grace: DEFAULT_DRAIN_GRACE,
        }
    }
}

/// The binary's whole life; `main` only picks the provider and the options.
///
/// Refuses to run (one line on stderr, exit status 1) unless Terraform
/// launched the process, or `options.debug` is set; then installs the
/// logger, builds a single-threaded tokio runtime and [`serve`]s on it.
/// `log_target` is the provider crate's `tracing` target (its crate name,
/// `env!("CARGO_CRATE_NAME")`): its events, and this crate's, are logged at
/// the level of the first of `TF_LOG_PROVIDER_<TYPE>` (the provider's type
/// name in upper case), `TF_LOG_PROVIDER` and `TF_LOG` that is set (WARN
/// when none is), other crates' at WARN at most; each line's `@module` is
/// the type name.
pub fn run(
    provider: Arc<dyn Provider>,
    options: ServeOptions,
    log_target: &'static str,
) -> ExitCode {
    if !options.debug
        && let Err(err) = handshake::check_launch(|key| std::env::var(key).ok())
    {
        eprintln!("{err}");
        return ExitCode::FAILURE;
    }
    super::logging::init(provider.type_name(), log_target);
    withhold_panic_messages();
    // One thread: the provider's work per call is microseconds, and Terraform
    // waits on every answer, so hopping between worker threads only adds
    // wake-up latency (measured: plan of 200 resources 1.9x -> 1.7-1.8x of
    // terraform_data). Requests still run concurrently, as tasks.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{}", ServeError::Runtime(err));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(provider, options));
    // Do not wait for stray tasks (an abandoned request, a parked stream).
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            // Not eprintln!, which panics when Terraform, which reads our
            // stderr, is gone.
            let _ = writeln!(std::io::stderr(), "terraform-provider error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Serves `provider` on the current tokio runtime: binds the socket,
/// announces it to Terraform on stdout (or, with `options.debug`, prints
/// the `TF_REATTACH_PROVIDERS` to set), then serves until shut down (see
/// [`serve_on`]). Unlike [`run`] it neither checks the launch nor sets up
/// logging.
pub async fn serve(provider: Arc<dyn Provider>, options: ServeOptions) -> Result<(), ServeError> {
    let client_cert = std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|c| !c.is_empty() && !options.debug);
    let socket_base: PathBuf = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let listening = listen(client_cert.as_deref(), &socket_base)?;
    let lifeline = Lifeline::default();
    if options.debug {
        // Started by a person, for many Terraform runs: the parent is a
        // shell, and no Terraform's end is ours.
        print_reattach_instructions(&options.provider_address, &listening.socket_path);
    } else {
        // Before the handshake: from then on Terraform may relay a Ctrl-C.
        ignore_interrupts();
        lifecycle::watch_parent(
            lifeline.clone(),
            std::os::unix::process::parent_id,
            lifecycle::PARENT_POLL,
        );
        announce(&listening.handshake_line()).map_err(ServeError::Stdout)?;
    }
    let ending = Ending {
        shutdown: CancellationToken::new(),
        lifeline,
        drain_grace: options.drain_grace,
    };
    serve_on(listening, provider, ending).await
}

/// What ends the server, and how its calls in flight are let finish.
#[derive(Clone)]
pub struct Ending {
    /// Fired by GRPCController.Shutdown, or by anyone who wants the server
    /// to end.
    pub shutdown: CancellationToken,
    /// Marked gone by the parent watch: Terraform is no more.
    pub lifeline: Lifeline,
    /// See [`ServeOptions::drain_grace`].
    pub drain_grace: Duration,
}

impl Default for Ending {
    fn default() -> Self {
        Ending {
            shutdown: CancellationToken::new(),
            lifeline: Lifeline::default(),
            drain_grace: DEFAULT_DRAIN_GRACE,
        }
    }
}

/// A bound plugin socket, ready to serve.
pub struct Listening {
    dir: tempfile::TempDir,
    listener: UnixListener,
    tls: Option<tls::PluginTls>,
    /// The socket, inside a fresh private directory that is removed when
    /// serving ends.
    pub socket_path: PathBuf,
}

impl Listening {
    /// The line Terraform expects on stdout: this socket, and the server's
    /// certificate when mutual TLS is on.
    pub fn handshake_line(&self) -> String {
        handshake::handshake_line(
            &self.socket_path,
            self.tls.as_ref().map(|t| t.server_cert_der.as_slice()),
        )
    }
}

/// Binds the socket in a fresh private directory under `socket_base`, with
/// mutual TLS pinned to `client_cert_pem` when Terraform gave one.
pub fn listen(client_cert_pem: Option<&str>, socket_base: &Path) -> Result<Listening, ServeError> {
    let dir = private_socket_dir(socket_base).map_err(ServeError::Socket)?;
    let socket_path = dir.path().join("plugin.sock");
    let listener = UnixListener::bind(&socket_path).map_err(ServeError::Socket)?;
    let tls = client_cert_pem.map(tls::server_config).transpose()?;
    Ok(Listening {
        dir,
        listener,
        tls,
        socket_path,
    })
}

/// Serves until GRPCController.Shutdown, `ending.shutdown` fires or
/// Terraform is gone; then lets detached applies finish, within
/// `ending.drain_grace`.
pub async fn serve_on(
    listening: Listening,
    provider: Arc<dyn Provider>,
    ending: Ending,
) -> Result<(), ServeError> {
    let Ending {
        shutdown,
        lifeline,
        drain_grace,
    } = ending;
    let Listening {
        dir,
        listener,
        tls,
        socket_path,
    } = listening;
    let incoming = accept_loop(
        listener,
        tls.as_ref().map(|t| TlsAcceptor::from(t.config.clone())),
        shutdown.clone(),
    );
    let stop = StopSignal::default();
    let dispatch = Arc::new(Dispatch::new(provider, stop.clone(), lifeline.clone()));
    tokio::spawn(lifecycle::end_when_gone(
        lifeline.clone(),
        stop,
        shutdown.clone(),
    ));
    let router = tonic::transport::Server::builder()
        .layer(super::profile::ProfileLayer::from_env())
        .add_service(tf_pb::provider_server::ProviderServer::from_arc(
            dispatch.clone(),
        ))
        .add_service(go_pb::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(go_pb::grpc_stdio_server::GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(go_pb::grpc_broker_server::GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }))
        .add_service(health_pb::health_server::HealthServer::new(Health));
    tracing::debug!(socket = %socket_path.display(), tls = tls.is_some(), "plugin server listening");

    let served = router.serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    tokio::pin!(served);
    let result = tokio::select! {
        result = &mut served => result,
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => Ok(()),
    };
    // The connection may be gone, but an apply that created something is
    // still on its way to the answer that records it.
    if lifeline.in_flight() > 0 {
        tracing::info!(
            calls = lifeline.in_flight(),
            grace = ?drain_grace,
            "letting applies in flight finish before exiting"
        );
    }
    if !lifeline.drain(drain_grace).await {
        tracing::warn!(
            calls = lifeline.in_flight(),
            grace = ?drain_grace,
            "exiting with applies still in flight: the grace period is over"
        );
    }
    // Shut down or abandoned: ephemeral values nobody closed are released,
    // after the drain, so that an open that was still on its way to its
    // answer has registered what it opened.
    if tokio::time::timeout(drain_grace, dispatch.close_abandoned())
        .await
        .is_err()
    {
        tracing::warn!("exiting with ephemeral values still being released");
    }
    // Removing the directory also removes the socket file.
    let _ = dir.close();
    Ok(result?)
}

/// Panics in provider code are caught and reported as diagnostics (see
/// dispatch); what reaches stderr names only the place, because a panic
/// message could quote a value that is a secret.
fn withhold_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(%location, "internal error (panic); its message is withheld");
    }));
}

/// A fresh directory only we can enter, so no other user can even reach the
/// socket. Honours go-plugin's PLUGIN_UNIX_SOCKET_DIR.
fn private_socket_dir(base: &Path) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("tf-provider-")
        .tempdir_in(base)?;
    set_private(dir.path())?;
    Ok(dir)
}

fn set_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

fn announce(line: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}

/// A Ctrl-C in the terminal reaches the whole process group, us included.
/// Terraform relays it as StopProvider, which cancels work cleanly; dying
/// here instead could lose a key between the API's answer and the state
/// write.
fn ignore_interrupts() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(mut interrupts) => {
            tokio::spawn(async move {
                while interrupts.recv().await.is_some() {
                    tracing::debug!("ignoring SIGINT: Terraform will send StopProvider");
                }
            });
        }
        Err(err) => tracing::warn!("cannot ignore SIGINT: {err}"),
    }
}

fn print_reattach_instructions(address: &str, socket: &Path) {
    let reattach = serde_json::json!({
        address: {
            "Protocol": "grpc",
            "ProtocolVersion": handshake::PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.display().to_string() },
        }
    });
    let _ = announce(&format!(
        "Provider started in debug mode. To attach Terraform, set in the shell where you \
         run terraform:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n"
    ));
}

/// Accepts connections and, with TLS, completes each handshake on its own
/// task so a slow or hostile client cannot hold up the others.
fn accept_loop(
    listener: UnixListener,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) -> ReceiverStream<std::io::Result<PluginConn>> {
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                () = shutdown.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        // Out of file descriptors, say: pause rather than spin.
                        tracing::warn!("accepting a plugin connection failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let sender = sender.clone();
            match &tls {
                None => {
                    let _ = sender.send(Ok(PluginConn::Plain(stream))).await;
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let handshake =
                            tokio::time::timeout(TLS_HANDSHAKE_LIMIT, acceptor.accept(stream));
                        match handshake.await.unwrap_or_else(|_| {
                            Err(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "TLS handshake timed out",
                            ))
                        }) {
                            Ok(tls_stream) => {
                                let _ =
                                    sender.send(Ok(PluginConn::Tls(Box::new(tls_stream)))).await;
                            }
                            Err(err) => {
                                tracing::warn!("refused a plugin connection: {err}");
                            }
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(receiver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{ConfigureRequest, Configured, Context, Resource};
    use crate::schema::{Block, Schema};
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{
        CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime,
    };
    use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
    use std::os::unix::fs::PermissionsExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixStream;

    struct Nothing;

    #[async_trait::async_trait]
    impl Provider for Nothing {
        fn type_name(&self) -> &'static str {
            "nothing"
        }
        fn schema(&self) -> Schema {
            Schema::new(0, Block::new(""))
        }
        async fn configure(&self, _: &Context, _: ConfigureRequest) -> Configured {
            Configured::default()
        }
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            Vec::new()
        }
    }

    /// The client side of the test: trusts any server certificate (the
    /// server's certificate is not what these tests are about).
    #[derive(Debug)]
    struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AnyServer {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    fn client(identity: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>) -> ClientConfig {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServer(provider)));
        let mut config = match identity {
            Some((cert, key)) => builder
                .with_client_auth_cert(vec![cert], key)
                .expect("identity"),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        config
    }

    fn identity(
        key: &rcgen::KeyPair,
        pem: &str,
    ) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let cert = rustls_pemfile::certs(&mut pem.as_bytes())
            .next()
            .expect("a cert")
            .expect("valid pem");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (cert, key)
    }

    /// Connects, sends the HTTP/2 preface and reports whether the server
    /// answered (true) or closed the connection (false).
    async fn server_answers(socket: &Path, config: ClientConfig) -> bool {
        let stream = UnixStream::connect(socket).await.expect("connect");
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = ServerName::try_from("localhost").expect("name");
        let Ok(mut tls) = connector.connect(name, stream).await else {
            return false;
        };
        // TLS 1.3 clients finish their side before the server has checked
        // the client certificate; the verdict arrives with the first read.
        if tls
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .is_err()
        {
            return false;
        }
        let mut buf = [0u8; 9];
        matches!(tls.read(&mut buf).await, Ok(n) if n > 0)
    }

    async fn start(client_cert: &str) -> (PathBuf, CancellationToken, tokio::task::JoinHandle<()>) {
        let base = std::env::temp_dir();
        let listening = listen(Some(client_cert), &base).expect("listen");
        let socket = listening.socket_path.clone();
        let shutdown = CancellationToken::new();
        let ending = Ending {
            shutdown: shutdown.clone(),
            ..Ending::default()
        };
        let task = tokio::spawn(async move {
            let _ = serve_on(listening, Arc::new(Nothing), ending).await;
        });
        (socket, shutdown, task)
    }

    #[tokio::test]
    async fn socket_lives_in_a_private_directory_removed_on_shutdown() {
        let (pem, _) = tls::tests::terraform_like_client_cert();
        let (socket, shutdown, task) = start(&pem).await;
        let dir = socket.parent().expect("dir").to_path_buf();
        let mode = std::fs::metadata(&dir).expect("dir").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        shutdown.cancel();
        task.await.expect("server task");
        assert!(!dir.exists(), "socket directory should be removed");
    }

    #[tokio::test]
    async fn a_client_without_a_certificate_is_refused() {
        let (pem, _) = tls::tests::terraform_like_client_cert();
        let (socket, shutdown, _task) = start(&pem).await;
        assert!(!server_answers(&socket, client(None)).await);
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_client_with_another_certificate_is_refused() {
        let (pem, _) = tls::tests::terraform_like_client_cert();
        let (other_pem, other_key) = tls::tests::terraform_like_client_cert();
        let (socket, shutdown, _task) = start(&pem).await;
        let config = client(Some(identity(&other_key, &other_pem)));
        assert!(!server_answers(&socket, config).await);
        shutdown.cancel();
    }

    #[tokio::test]
    async fn terraforms_p521_certificate_is_accepted() {
        let (pem, key) = tls::tests::terraform_like_client_cert();
        let (socket, shutdown, _task) = start(&pem).await;
        let config = client(Some(identity(&key, &pem)));
        assert!(server_answers(&socket, config).await);
        shutdown.cancel();
    }

    #[tokio::test]
    async fn the_server_ends_when_terraform_is_gone() {
        let (pem, _) = tls::tests::terraform_like_client_cert();
        let listening = listen(Some(&pem), &std::env::temp_dir()).expect("listen");
        let ending = Ending::default();
        let lifeline = ending.lifeline.clone();
        let task = tokio::spawn(serve_on(listening, Arc::new(Nothing), ending));
        lifeline.mark_gone();
        let ended = tokio::time::timeout(Duration::from_secs(5), task).await;
        assert!(matches!(ended, Ok(Ok(Ok(())))));
    }
}
