//! `docgen`: see the crate documentation, and `scripts/docs.sh`, which is
//! how it is meant to be run.

use docgen::{Error, ProviderSource};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: docgen [--check] [--root DIR] --provider-source NAMESPACE/NAME
              (--provider-dir DIR [--terraform PATH] | --schema-json FILE)

Writes DIR/docs (default: the current directory's) from the provider's schema,
DIR/examples and DIR/templates. The schema comes from `terraform providers
schema -json`, run with dev_overrides pointing at the provider binary in
--provider-dir, or from a file saved earlier (--schema-json).

  --check   compare instead of writing: list each file of docs/ that differs,
            is missing or is extra, and exit 1 if there is any";

struct Args {
    check: bool,
    root: PathBuf,
    source: String,
    provider_dir: Option<PathBuf>,
    terraform: OsString,
    schema_json: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        check: false,
        root: PathBuf::from("."),
        source: String::new(),
        provider_dir: None,
        terraform: OsString::from("terraform"),
        schema_json: None,
    };
    let mut given = std::env::args_os().skip(1);
    while let Some(arg) = given.next() {
        let mut value = || {
            given
                .next()
                .ok_or_else(|| format!("{} needs a value", arg.to_string_lossy()))
        };
        match arg.to_str() {
            Some("--check") => args.check = true,
            Some("--root") => args.root = value()?.into(),
            Some("--provider-source") => {
                args.source = value()?
                    .into_string()
                    .map_err(|_| "--provider-source is not UTF-8".to_owned())?;
            }
            Some("--provider-dir") => args.provider_dir = Some(value()?.into()),
            Some("--terraform") => args.terraform = value()?,
            Some("--schema-json") => args.schema_json = Some(value()?.into()),
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    if args.source.is_empty() {
        return Err("--provider-source is required".to_owned());
    }
    if args.provider_dir.is_some() == args.schema_json.is_some() {
        return Err("give exactly one of --provider-dir and --schema-json".to_owned());
    }
    Ok(args)
}

fn run(args: &Args) -> Result<bool, Error> {
    let source = ProviderSource::parse(&args.source)?;
    let schema = match (&args.schema_json, &args.provider_dir) {
        (Some(path), _) => std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?,
        (None, Some(dir)) => {
            let version = docgen::terraform::version(&args.terraform)?;
            eprintln!(
                "docgen: schema from `terraform providers schema -json`, Terraform {version}"
            );
            docgen::terraform::provider_schema_json(&args.terraform, dir, &source)?
        }
        (None, None) => unreachable!("parse_args requires one of the two"),
    };
    let docs = docgen::generate(&schema, &args.root, &source)?;
    if args.check {
        let drift = docgen::compare(&docs, &args.root)?;
        for item in &drift {
            println!("{item}");
        }
        if drift.is_empty() {
            println!("docs/ is up to date ({} files)", docs.files.len());
        } else {
            println!(
                "docs/ is not what the schema, examples/ and templates/ give; run `bash \
                 scripts/docs.sh` and commit the result"
            );
        }
        Ok(drift.is_empty())
    } else {
        let done = docgen::write(&docs, &args.root)?;
        for item in &done {
            println!("{item}");
        }
        println!("docs/: {} files, {} changed", docs.files.len(), done.len());
        Ok(true)
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("docgen: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("docgen: {err}");
            ExitCode::FAILURE
        }
    }
}
