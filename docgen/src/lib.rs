//! docgen: writes the Terraform Registry documentation (`docs/`) of a
//! provider from the schema Terraform reports for it
//! (`terraform providers schema -json`), the example configurations under
//! `examples/` and the hand-written templates under `templates/`, in the
//! registry's layout. The same inputs always give the same bytes, so a
//! check can compare the result with what is committed.
//!
//! Inputs, for a provider `x` with a resource `x_thing`:
//!
//! | input | becomes |
//! |---|---|
//! | provider schema, `examples/provider/provider.tf`, `templates/index.md` | `docs/index.md` |
//! | `x_thing`'s schema, `examples/resources/x_thing/resource.tf` and `import.sh`, `templates/resources/thing.md` | `docs/resources/thing.md` |
//! | likewise for data sources, ephemeral resources, list resources and actions | `docs/data-sources/`, `docs/ephemeral-resources/`, `docs/list-resources/`, `docs/actions/` |
//! | `templates/guides/NAME.md` | `docs/guides/NAME.md`, copied as it is |
//!
//! Examples and templates are optional; one that matches no object of the
//! schema is an error, as is an attribute without a description.

mod markdown;
mod page;
pub mod schema;
pub mod terraform;

use page::Page;
use schema::{Document, ProviderSchemas, Schema};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the schema JSON cannot be read: {0}")]
    Json(#[from] serde_json::Error),
    #[error("schema: {0}")]
    Schema(String),
    #[error("{}: {problem}", path.display())]
    Template { path: PathBuf, problem: String },
    #[error("{}: {problem}", path.display())]
    Layout { path: PathBuf, problem: String },
    #[error("terraform: {0}")]
    Terraform(String),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// The kinds of objects a provider has, each with its own folder in
/// `docs/`, `examples/` and `templates/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Resource,
    DataSource,
    EphemeralResource,
    ListResource,
    Action,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Resource,
        Kind::DataSource,
        Kind::EphemeralResource,
        Kind::ListResource,
        Kind::Action,
    ];

    /// The folder name, the same under `docs/`, `examples/` and `templates/`.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Resource => "resources",
            Kind::DataSource => "data-sources",
            Kind::EphemeralResource => "ephemeral-resources",
            Kind::ListResource => "list-resources",
            Kind::Action => "actions",
        }
    }

    /// The example's file name in `examples/<folder>/<type name>/`. List
    /// blocks live in query files, so a list resource's example is one.
    pub fn example_file(self) -> &'static str {
        match self {
            Kind::Resource => "resource.tf",
            Kind::DataSource => "data-source.tf",
            Kind::EphemeralResource => "ephemeral-resource.tf",
            Kind::ListResource => "list-resource.tfquery.hcl",
            Kind::Action => "action.tf",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Resource => "Resource",
            Kind::DataSource => "Data Source",
            Kind::EphemeralResource => "Ephemeral Resource",
            Kind::ListResource => "List Resource",
            Kind::Action => "Action",
        }
    }

    fn schemas(self, provider: &ProviderSchemas) -> &BTreeMap<String, Schema> {
        match self {
            Kind::Resource => &provider.resource_schemas,
            Kind::DataSource => &provider.data_source_schemas,
            Kind::EphemeralResource => &provider.ephemeral_resource_schemas,
            Kind::ListResource => &provider.list_resource_schemas,
            Kind::Action => &provider.action_schemas,
        }
    }
}

/// A provider source address, as in `required_providers`.
#[derive(Clone, Debug)]
pub struct ProviderSource {
    /// `registry.terraform.io/parallel-web/parallel`
    pub address: String,
    /// `parallel-web/parallel`, as configurations write it.
    pub short: String,
    /// `parallel`: the provider's local name and type-name prefix.
    pub name: String,
}

impl ProviderSource {
    /// `namespace/name` or `hostname/namespace/name`.
    pub fn parse(source: &str) -> Result<ProviderSource, Error> {
        let parts: Vec<&str> = source.split('/').collect();
        let valid = |part: &&str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        let (host, namespace, name) = match parts.as_slice() {
            [namespace, name] => ("registry.terraform.io", *namespace, *name),
            [host, namespace, name] => (*host, *namespace, *name),
            _ => ("", "", ""),
        };
        if ![host, namespace, name].iter().all(valid) {
            return Err(Error::Schema(format!(
                "{source:?} is not a provider source address such as \"namespace/name\""
            )));
        }
        Ok(ProviderSource {
            address: format!("{host}/{namespace}/{name}"),
            short: format!("{namespace}/{name}"),
            name: name.to_owned(),
        })
    }
}

/// The generated `docs/` tree: path relative to `docs/` → content.
#[derive(Debug, Default)]
pub struct Docs {
    pub files: BTreeMap<PathBuf, String>,
}

/// Renders `docs/` for the provider `source` from `schema_json` (the output
/// of `terraform providers schema -json`) and the `examples/` and
/// `templates/` under `root`.
pub fn generate(schema_json: &str, root: &Path, source: &ProviderSource) -> Result<Docs, Error> {
    let document: Document = serde_json::from_str(schema_json)?;
    if document.format_version.split('.').next() != Some("1") {
        return Err(Error::Schema(format!(
            "format_version {} is not one docgen knows (1.x)",
            document.format_version
        )));
    }
    let Some(provider) = document.provider_schemas.get(&source.address) else {
        return Err(Error::Schema(format!(
            "no schema for {} (found: {:?})",
            source.address,
            document.provider_schemas.keys().collect::<Vec<_>>()
        )));
    };
    if !provider.functions.is_empty() {
        return Err(Error::Schema(format!(
            "the provider has functions ({:?}), which docgen does not document yet",
            provider.functions.keys().collect::<Vec<_>>()
        )));
    }
    let examples = root.join("examples");
    let templates = root.join("templates");
    let mut docs = Docs::default();

    let provider_schema = provider
        .provider
        .as_ref()
        .ok_or_else(|| Error::Schema("the provider's own schema is missing".to_owned()))?;
    let display_name = capitalized(&source.name);
    expect_only(&examples.join("provider"), &["provider.tf"])?;
    let index = Page {
        page_title: format!("Provider: {display_name}"),
        title: format!("# {display_name} Provider"),
        description: described(&source.name, &provider_schema.block.description)?,
        example: read_optional(&examples.join("provider").join("provider.tf"))?,
        import: None,
        schema: markdown::schema_section(&source.name, &provider_schema.block, None)?,
    };
    let index_template = templates.join("index.md");
    docs.files
        .insert(PathBuf::from("index.md"), render(&index, &index_template)?);

    for kind in Kind::ALL {
        let objects = kind.schemas(provider);
        let mut short_names = BTreeSet::new();
        for (type_name, schema) in objects {
            let short = type_name
                .strip_prefix(&source.name)
                .and_then(|rest| rest.strip_prefix('_'))
                .filter(|rest| !rest.is_empty())
                .ok_or_else(|| {
                    Error::Schema(format!(
                        "{type_name} does not start with the provider's name, {}_",
                        source.name
                    ))
                })?;
            short_names.insert(format!("{short}.md"));
            let example_dir = examples.join(kind.folder()).join(type_name);
            let mut known = vec![kind.example_file()];
            if kind == Kind::Resource {
                known.push("import.sh");
            }
            expect_only(&example_dir, &known)?;
            let identity = match kind {
                Kind::Resource => provider.resource_identity_schemas.get(type_name),
                _ => None,
            };
            let page = Page {
                page_title: format!("{type_name} {} - {}", kind.label(), source.name),
                title: format!("# {type_name} ({})", kind.label()),
                description: described(type_name, &schema.block.description)?,
                example: read_optional(&example_dir.join(kind.example_file()))?,
                import: match kind {
                    Kind::Resource => read_optional(&example_dir.join("import.sh"))?,
                    _ => None,
                },
                schema: markdown::schema_section(type_name, &schema.block, identity)?,
            };
            let template = templates.join(kind.folder()).join(format!("{short}.md"));
            docs.files.insert(
                Path::new(kind.folder()).join(format!("{short}.md")),
                render(&page, &template)?,
            );
        }
        let example_dirs: Vec<&str> = objects.keys().map(String::as_str).collect();
        expect_only(&examples.join(kind.folder()), &example_dirs)?;
        let template_names: Vec<&str> = short_names.iter().map(String::as_str).collect();
        expect_only(&templates.join(kind.folder()), &template_names)?;
    }

    let guides = templates.join("guides");
    for name in list_dir(&guides)? {
        let path = guides.join(&name);
        if !name.ends_with(".md") {
            return Err(Error::Layout {
                path,
                problem: "a guide must be a .md file".to_owned(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let front_matter = text
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(front, _)| front);
        if !front_matter.is_some_and(|front| front.contains("page_title:")) {
            return Err(Error::Layout {
                path,
                problem: "a guide must begin with front matter (---) that sets page_title"
                    .to_owned(),
            });
        }
        docs.files.insert(Path::new("guides").join(name), text);
    }

    let mut top: Vec<&str> = vec!["README.md", "index.md", "guides"];
    top.extend(Kind::ALL.map(Kind::folder));
    expect_only(&templates, &top)?;
    Ok(docs)
}

fn render(page: &Page, template_path: &Path) -> Result<String, Error> {
    match read_optional(template_path)? {
        Some(text) => page.render(Some((template_path, &text))),
        None => page.render(None),
    }
}

fn described(owner: &str, description: &str) -> Result<String, Error> {
    if description.trim().is_empty() {
        return Err(Error::Schema(format!(
            "{owner} has no description; add one to its schema definition"
        )));
    }
    Ok(description.to_owned())
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(io_error(path)(err)),
    }
}

/// The names in `dir`, sorted; none when it does not exist. Hidden entries
/// and the state files terraform leaves in an example directory someone
/// ran it in are skipped.
fn list_dir(dir: &Path) -> Result<Vec<String>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io_error(dir)(err)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let name = entry.map_err(io_error(dir))?.file_name();
        let name = name.to_string_lossy().into_owned();
        if !name.starts_with('.') && !name.contains(".tfstate") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Refuses anything in `dir` not named in `known`: an example or template
/// nothing reads is a page that silently went missing.
fn expect_only(dir: &Path, known: &[&str]) -> Result<(), Error> {
    for name in list_dir(dir)? {
        if !known.contains(&name.as_str()) {
            return Err(Error::Layout {
                path: dir.join(&name),
                problem: format!("matches nothing docgen reads here (it reads {known:?})"),
            });
        }
    }
    Ok(())
}

/// How the committed `docs/` differs from the generated one.
#[derive(Debug, PartialEq, Eq)]
pub enum Drift {
    /// Both have the file; `line` is the first line that differs (1-based).
    Differs { path: PathBuf, line: usize },
    /// Generated but not committed.
    Missing(PathBuf),
    /// Committed but not generated.
    Extra(PathBuf),
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |path: &Path| Path::new("docs").join(path).display().to_string();
        match self {
            Drift::Differs { path, line } => {
                write!(f, "differs: {} (from line {line})", shown(path))
            }
            Drift::Missing(path) => write!(f, "missing: {}", shown(path)),
            Drift::Extra(path) => write!(f, "extra:   {}", shown(path)),
        }
    }
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Result<BTreeSet<PathBuf>, Error> {
    let mut found = BTreeSet::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let here = dir.join(&relative);
        let entries = match std::fs::read_dir(&here) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(io_error(&here)(err)),
        };
        for entry in entries {
            let entry = entry.map_err(io_error(&here))?;
            let path = relative.join(entry.file_name());
            if entry.file_type().map_err(io_error(&here))?.is_dir() {
                pending.push(path);
            } else {
                found.insert(path);
            }
        }
    }
    Ok(found)
}

/// Compares `docs` with `root/docs`, touching nothing.
pub fn compare(docs: &Docs, root: &Path) -> Result<Vec<Drift>, Error> {
    let dir = root.join("docs");
    let committed = files_under(&dir)?;
    let mut drift = Vec::new();
    for (path, expected) in &docs.files {
        if !committed.contains(path) {
            drift.push(Drift::Missing(path.clone()));
            continue;
        }
        let full = dir.join(path);
        let actual = std::fs::read(&full).map_err(io_error(&full))?;
        if actual != expected.as_bytes() {
            let actual = String::from_utf8_lossy(&actual);
            let line = first_difference(expected, &actual);
            drift.push(Drift::Differs {
                path: path.clone(),
                line,
            });
        }
    }
    for path in committed {
        if !docs.files.contains_key(&path) {
            drift.push(Drift::Extra(path));
        }
    }
    drift.sort_by(|a, b| drift_path(a).cmp(drift_path(b)));
    Ok(drift)
}

fn drift_path(drift: &Drift) -> &Path {
    match drift {
        Drift::Differs { path, .. } | Drift::Missing(path) | Drift::Extra(path) => path,
    }
}

fn first_difference(expected: &str, actual: &str) -> usize {
    let mut expected_lines = expected.split_inclusive('\n');
    let mut actual_lines = actual.split_inclusive('\n');
    let mut line = 1;
    loop {
        match (expected_lines.next(), actual_lines.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            _ => return line,
        }
    }
}

/// Makes `root/docs` what `docs` says: writes what changed, removes files
/// nothing generates (and folders left empty). Returns what it did.
pub fn write(docs: &Docs, root: &Path) -> Result<Vec<Drift>, Error> {
    let dir = root.join("docs");
    let drift = compare(docs, root)?;
    for item in &drift {
        match item {
            Drift::Differs { path, .. } | Drift::Missing(path) => {
                let full = dir.join(path);
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
                }
                std::fs::write(&full, &docs.files[path]).map_err(io_error(&full))?;
            }
            Drift::Extra(path) => {
                let full = dir.join(path);
                std::fs::remove_file(&full).map_err(io_error(&full))?;
                // Folders emptied on the way up go too (remove_dir refuses
                // a folder that still has something in it).
                let mut parent = full.parent();
                while let Some(folder) = parent.filter(|folder| *folder != dir) {
                    if std::fs::remove_dir(folder).is_err() {
                        break;
                    }
                    parent = folder.parent();
                }
            }
        }
    }
    Ok(drift)
}
