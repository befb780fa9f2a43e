//! go-plugin's launch contract: Terraform starts the plugin with a magic
//! cookie and the protocol versions it speaks; the plugin answers with one
//! line on stdout saying where it listens and with which certificate.

use base64::Engine;
use std::path::Path;

/// The environment variable in which Terraform passes go-plugin's magic
/// cookie to the plugins it launches.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The cookie's value for Terraform providers: not a secret, only a sign
/// that the process was launched as a plugin rather than by hand.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version, the first field of the handshake line.
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol major version this provider speaks.
pub const PROTOCOL_VERSION: u32 = 6;
/// The newest minor revision of that protocol whose RPCs and fields are
/// implemented, as `--version` output should report it.
pub const PROTOCOL_REVISION: &str = "6.10";

/// Why the process will not serve: it was not launched the way Terraform
/// launches plugins.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// The magic cookie is missing or wrong: someone ran the program by
    /// hand.
    #[error(
        "this program is a Terraform provider plugin, and Terraform starts it by itself; \
         to attach a debugger, run it with --debug instead"
    )]
    NotLaunchedByTerraform,
    /// The launching program offers only other protocol versions (the
    /// offered list, as given in `PLUGIN_PROTOCOL_VERSIONS`).
    #[error(
        "this provider speaks Terraform plugin protocol {PROTOCOL_VERSION}, but the launching \
         program offers only {0}: use Terraform 1.0 or newer, or OpenTofu"
    )]
    NoCommonProtocol(String),
}

/// Checks that Terraform launched us, in a form that can be tested without
/// touching the process environment.
pub fn check_launch(env: impl Fn(&str) -> Option<String>) -> Result<(), HandshakeError> {
    if env(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(HandshakeError::NotLaunchedByTerraform);
    }
    match env("PLUGIN_PROTOCOL_VERSIONS") {
        // go-plugin clients that predate version negotiation send nothing.
        None => Ok(()),
        Some(offered) => {
            let speaks_ours = offered
                .split(',')
                .any(|v| v.trim().parse() == Ok(PROTOCOL_VERSION));
            if speaks_ours {
                Ok(())
            } else {
                Err(HandshakeError::NoCommonProtocol(offered))
            }
        }
    }
}

/// The line Terraform reads from our stdout: `core|app|network|address|protocol|cert`,
/// the certificate as unpadded standard base64 of its DER.
pub fn handshake_line(socket: &Path, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}",
        socket.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn refuses_to_run_without_the_cookie() {
        assert_eq!(
            check_launch(env(&[])),
            Err(HandshakeError::NotLaunchedByTerraform)
        );
        assert_eq!(
            check_launch(env(&[(MAGIC_COOKIE_KEY, "wrong")])),
            Err(HandshakeError::NotLaunchedByTerraform)
        );
    }

    #[test]
    fn accepts_terraforms_launch() {
        let launch = env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
        ]);
        assert_eq!(check_launch(launch), Ok(()));
    }

    #[test]
    fn refuses_a_client_without_protocol_6() {
        let launch = env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
        ]);
        assert_eq!(
            check_launch(launch),
            Err(HandshakeError::NoCommonProtocol("4,5".into()))
        );
    }

    #[test]
    fn line_has_unpadded_base64_certificate() {
        let line = handshake_line(Path::new("/tmp/x/plugin.sock"), Some(&[1, 2, 3, 4]));
        assert_eq!(line, "1|6|unix|/tmp/x/plugin.sock|grpc|AQIDBA");
        let plain = handshake_line(Path::new("/s"), None);
        assert_eq!(plain, "1|6|unix|/s|grpc|");
    }
}
