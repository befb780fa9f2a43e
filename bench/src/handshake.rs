//! Provider start-up: from exec to the go-plugin handshake line on stdout,
//! launched the way Terraform launches it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{BenchError, Result};
use crate::interrupt;
use crate::process::Guarded;
use crate::stats::Samples;

const MAGIC_COOKIE: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);
const LINE_TIMEOUT: Duration = Duration::from_secs(10);

/// A client certificate like the one Terraform sends: ECDSA P-521 with
/// SHA-512, self-signed, marked as a CA.
pub fn terraform_like_client_cert() -> Result<String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    Ok(params.self_signed(&key)?.pem())
}

/// Seconds from spawn to the handshake line, `count` times after one
/// unmeasured warm-up (which pulls the binary into the page cache).
pub fn measure(provider: &Path, socket_dir: &Path, count: usize) -> Result<Samples> {
    let cert = terraform_like_client_cert()?;
    let mut samples = Samples::default();
    once(provider, socket_dir, &cert)?;
    for _ in 0..count {
        interrupt::check()?;
        samples.push(once(provider, socket_dir, &cert)?.as_secs_f64());
    }
    Ok(samples)
}

fn once(provider: &Path, socket_dir: &Path, cert: &str) -> Result<Duration> {
    let mut command = Command::new(provider);
    command
        .env_clear()
        .env(MAGIC_COOKIE.0, MAGIC_COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", cert)
        // The socket directory of a killed provider stays behind: keep it
        // inside the scratch directory.
        .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut process = Guarded::spawn("terraform-provider-parallel", &mut command)?;
    let stdout = process
        .child_mut()
        .stdout
        .take()
        .ok_or_else(|| BenchError::Unexpected("the provider has no stdout pipe".into()))?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send((read.map(|_| line), Instant::now()));
    });
    let (line, seen) = match receiver.recv_timeout(LINE_TIMEOUT) {
        Ok((Ok(line), seen)) => (line, seen),
        Ok((Err(e), _)) => {
            return Err(BenchError::Unexpected(format!(
                "reading the handshake: {e}"
            )));
        }
        Err(_) => {
            return Err(BenchError::Timeout {
                label: "the provider's handshake".into(),
                after: LINE_TIMEOUT,
            });
        }
    };
    check_line(&line)?;
    // Dropping the guard stops the provider; that is not part of the time.
    drop(process);
    Ok(seen.saturating_duration_since(started))
}

/// `1|6|unix|<socket>|grpc|<base64 certificate>`.
fn check_line(line: &str) -> Result<()> {
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    let looks_right = fields.len() == 6
        && fields[0] == "1"
        && fields[1] == "6"
        && fields[2] == "unix"
        && fields[4] == "grpc"
        && !fields[5].is_empty();
    if looks_right {
        Ok(())
    } else {
        Err(BenchError::Unexpected(format!(
            "the provider's first line is not a go-plugin handshake with a TLS certificate: {:?}",
            line.chars().take(200).collect::<String>()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_pem() {
        let pem = terraform_like_client_cert().expect("certificate");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn handshake_lines_are_checked() {
        assert!(check_line("1|6|unix|/tmp/p/plugin.sock|grpc|MIIB\n").is_ok());
        assert!(check_line("1|6|unix|/tmp/p/plugin.sock|grpc|\n").is_err());
        assert!(check_line("this is a Terraform plugin\n").is_err());
        assert!(check_line("").is_err());
    }
}
