//! Getting the schema the way Terraform itself sees it: `terraform
//! providers schema -json` in an empty configuration that requires only
//! the provider, with a CLI configuration whose `dev_overrides` point at
//! the freshly built binary. No `terraform init`: overridden providers need
//! none, and init would try to reach the registry.

use crate::{Error, ProviderSource};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

/// The schema JSON of `source`, served by the `terraform-provider-NAME`
/// binary in `provider_dir`.
pub fn provider_schema_json(
    terraform: &OsStr,
    provider_dir: &Path,
    source: &ProviderSource,
) -> Result<String, Error> {
    let binary = provider_dir.join(format!("terraform-provider-{}", source.name));
    if !binary.is_file() {
        return Err(Error::Terraform(format!(
            "no provider binary at {} (build it first)",
            binary.display()
        )));
    }
    let provider_dir = std::fs::canonicalize(provider_dir).map_err(|source| Error::Io {
        path: provider_dir.to_owned(),
        source,
    })?;
    let work = tempfile::tempdir().map_err(|source| Error::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let cli_config = work.path().join("cli.tfrc");
    let config_dir = work.path().join("config");
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
    };
    std::fs::create_dir(&config_dir).map_err(|source| Error::Io {
        path: config_dir.clone(),
        source,
    })?;
    write(
        &cli_config,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    {} = {}\n  }}\n  direct {{}}\n}}\n",
            hcl_string(&source.short),
            hcl_string(&provider_dir.to_string_lossy())
        ),
    )?;
    write(
        &config_dir.join("main.tf"),
        format!(
            "terraform {{\n  required_providers {{\n    {} = {{\n      source = {}\n    }}\n  }}\n}}\n",
            source.name,
            hcl_string(&source.short)
        ),
    )?;

    let mut command = Command::new(terraform);
    command
        .args(["providers", "schema", "-json"])
        .current_dir(&config_dir)
        .stdin(Stdio::null())
        .env("TF_CLI_CONFIG_FILE", &cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1");
    // Settings of the caller's shell that would change what terraform
    // loads, or attach it to some other provider process.
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("TF_CLI_ARGS")
            || matches!(
                text.as_ref(),
                "TF_DATA_DIR" | "TF_WORKSPACE" | "TF_REATTACH_PROVIDERS" | "TF_PLUGIN_CACHE_DIR"
            )
        {
            command.env_remove(&name);
        }
    }
    let output = command.output().map_err(|err| {
        Error::Terraform(format!(
            "cannot run {}: {err}",
            Path::new(terraform).display()
        ))
    })?;
    if !output.status.success() {
        return Err(Error::Terraform(format!(
            "`terraform providers schema -json` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| Error::Terraform("the schema JSON is not UTF-8".to_owned()))
}

/// `terraform version`'s version number, to say which Terraform the
/// schema came from (identity schemas need 1.12 or later).
pub fn version(terraform: &OsStr) -> Result<String, Error> {
    let output = Command::new(terraform)
        .args(["version", "-json"])
        .stdin(Stdio::null())
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .map_err(|err| {
            Error::Terraform(format!(
                "cannot run {}: {err}",
                Path::new(terraform).display()
            ))
        })?;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    json.get("terraform_version")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Terraform("`terraform version -json` gave no version".to_owned()))
}

/// A quoted HCL string: escapes quotes and backslashes, and the `${` and
/// `%{` that would otherwise start a template.
fn hcl_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::hcl_string;

    #[test]
    fn paths_are_quoted_for_hcl() {
        assert_eq!(hcl_string(r#"/a "b"\${c}"#), r#""/a \"b\"\\$${c}""#);
    }
}
