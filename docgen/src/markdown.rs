//! The "Schema" section of a page: attributes grouped into Required,
//! Optional and Read-Only (each group sorted by name), then one "Nested
//! Schema" subsection per nested block, nested attribute or object type, in
//! the order the listing above met them, so a reader follows the links
//! downwards.

use crate::Error;
use crate::schema::{Attribute, Block, IdentitySchema};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

impl Group {
    fn label(self) -> &'static str {
        match self {
            Group::Required => "Required",
            Group::Optional => "Optional",
            Group::ReadOnly => "Read-Only",
        }
    }

    fn of(attribute: &Attribute) -> Group {
        if attribute.required {
            Group::Required
        } else if attribute.computed && !attribute.optional {
            Group::ReadOnly
        } else {
            Group::Optional
        }
    }
}

/// What one listing (the top one or a nested subsection) shows.
enum Members<'a> {
    Block(&'a Block),
    Attributes(&'a BTreeMap<String, Attribute>),
    /// The fields of an object type. They have no description or flags of
    /// their own, so they are listed in the group of the attribute holding
    /// them.
    Object(&'a Map<String, Json>, Group),
}

struct Nested<'a> {
    /// `["timeouts"]`, or `["rule", "match"]` for a block in a block.
    path: Vec<&'a str>,
    /// `nestedblock`, `nestedatt` or `nestedobjatt`: the anchor's prefix.
    anchor_kind: &'static str,
    members: Members<'a>,
}

impl Nested<'_> {
    fn anchor(&self) -> String {
        format!("{}--{}", self.anchor_kind, self.path.join("--"))
    }
}

struct Entry<'a> {
    name: &'a str,
    group: Group,
    /// "String", "Map of String", "Block List, Max: 1"…
    kind: String,
    marks: Vec<&'static str>,
    description: &'a str,
    nested: Option<Nested<'a>>,
}

impl Entry<'_> {
    fn line(&self) -> String {
        let mut head = format!("- `{}` ({}", self.name, self.kind);
        for mark in &self.marks {
            head.push_str(", ");
            head.push_str(mark);
        }
        head.push(')');
        let mut text = vec![head];
        let description = self.description.trim();
        if !description.is_empty() {
            // Continuation lines stay inside the list item.
            text.push(description.replace('\n', "\n  "));
        }
        if let Some(nested) = &self.nested {
            text.push(format!(
                "(see [below for nested schema](#{}))",
                nested.anchor()
            ));
        }
        text.join(" ")
    }
}

/// The `## Schema` section for `block`, plus `## Identity Schema` when the
/// resource has one. `owner` names the object in errors.
pub fn schema_section(
    owner: &str,
    block: &Block,
    identity: Option<&IdentitySchema>,
) -> Result<String, Error> {
    let mut chunks = vec!["## Schema".to_owned()];
    let mut queue = VecDeque::new();
    let top = entries(owner, &[], &Members::Block(block))?;
    if top.is_empty() {
        chunks.push("This has no arguments and no attributes.".to_owned());
    }
    chunks.extend(grouped(top, &mut queue, |group| {
        format!("### {}", group.label())
    }));
    while let Some(nested) = queue.pop_front() {
        chunks.push(format!(
            "<a id=\"{}\"></a>\n### Nested Schema for `{}`",
            nested.anchor(),
            nested.path.join(".")
        ));
        let listed = entries(owner, &nested.path, &nested.members)?;
        chunks.extend(grouped(listed, &mut queue, |group| {
            format!("{}:", group.label())
        }));
    }
    if let Some(identity) = identity {
        chunks.push(identity_section(owner, identity)?);
    }
    Ok(chunks.join("\n\n"))
}

/// Each group's heading and list, in Required, Optional, Read-Only order;
/// nested members go to the back of `queue`.
fn grouped<'a>(
    entries: Vec<Entry<'a>>,
    queue: &mut VecDeque<Nested<'a>>,
    heading: impl Fn(Group) -> String,
) -> Vec<String> {
    let mut by_group: BTreeMap<Group, Vec<Entry<'a>>> = BTreeMap::new();
    for entry in entries {
        by_group.entry(entry.group).or_default().push(entry);
    }
    let mut chunks = Vec::new();
    for (group, mut members) in by_group {
        members.sort_by(|a, b| a.name.cmp(b.name));
        chunks.push(heading(group));
        chunks.push(
            members
                .iter()
                .map(Entry::line)
                .collect::<Vec<_>>()
                .join("\n"),
        );
        queue.extend(members.into_iter().filter_map(|entry| entry.nested));
    }
    chunks
}

fn entries<'a>(
    owner: &str,
    path: &[&'a str],
    members: &Members<'a>,
) -> Result<Vec<Entry<'a>>, Error> {
    let inner = |name: &'a str| {
        let mut inner = path.to_vec();
        inner.push(name);
        inner
    };
    let mut out = Vec::new();
    match members {
        Members::Block(block) => {
            out.extend(attribute_entries(owner, path, &block.attributes)?);
            for (name, nested) in &block.block_types {
                let name = name.as_str();
                require_description(owner, &inner(name), &nested.block.description)?;
                let mut kind = match nested.nesting_mode.as_str() {
                    "single" | "group" => "Block".to_owned(),
                    "list" => "Block List".to_owned(),
                    "set" => "Block Set".to_owned(),
                    "map" => "Block Map".to_owned(),
                    other => {
                        return Err(Error::Schema(format!(
                            "{owner}: block {} has an unknown nesting mode {other:?}",
                            inner(name).join(".")
                        )));
                    }
                };
                if nested.min_items > 0 {
                    kind.push_str(&format!(", Min: {}", nested.min_items));
                }
                if nested.max_items > 0 && nested.nesting_mode != "single" {
                    kind.push_str(&format!(", Max: {}", nested.max_items));
                }
                out.push(Entry {
                    name,
                    group: if nested.min_items > 0 {
                        Group::Required
                    } else {
                        Group::Optional
                    },
                    kind,
                    marks: if nested.block.deprecated {
                        vec!["Deprecated"]
                    } else {
                        Vec::new()
                    },
                    description: &nested.block.description,
                    nested: Some(Nested {
                        path: inner(name),
                        anchor_kind: "nestedblock",
                        members: Members::Block(&nested.block),
                    }),
                });
            }
        }
        Members::Attributes(attributes) => {
            out.extend(attribute_entries(owner, path, attributes)?);
        }
        Members::Object(fields, group) => {
            for (name, ty) in fields.iter() {
                let (kind, object) = type_name(owner, &inner(name), ty)?;
                out.push(Entry {
                    name,
                    group: *group,
                    kind,
                    marks: Vec::new(),
                    description: "",
                    nested: object.map(|fields| Nested {
                        path: inner(name),
                        anchor_kind: "nestedobjatt",
                        members: Members::Object(fields, *group),
                    }),
                });
            }
        }
    }
    Ok(out)
}

fn attribute_entries<'a>(
    owner: &str,
    path: &[&'a str],
    attributes: &'a BTreeMap<String, Attribute>,
) -> Result<Vec<Entry<'a>>, Error> {
    let mut out = Vec::new();
    for (name, attribute) in attributes {
        let name = name.as_str();
        let mut here = path.to_vec();
        here.push(name);
        require_description(owner, &here, &attribute.description)?;
        let group = Group::of(attribute);
        let (kind, nested) = match (&attribute.nested_type, &attribute.ty) {
            (Some(nested_type), _) => {
                let kind = match nested_type.nesting_mode.as_str() {
                    "single" => "Attributes",
                    "list" => "Attributes List",
                    "set" => "Attributes Set",
                    "map" => "Attributes Map",
                    other => {
                        return Err(Error::Schema(format!(
                            "{owner}: attribute {} has an unknown nesting mode {other:?}",
                            here.join(".")
                        )));
                    }
                };
                let nested = Nested {
                    path: here,
                    anchor_kind: "nestedatt",
                    members: Members::Attributes(&nested_type.attributes),
                };
                (kind.to_owned(), Some(nested))
            }
            (None, Some(ty)) => {
                let (kind, object) = type_name(owner, &here, ty)?;
                let nested = object.map(|fields| Nested {
                    path: here,
                    anchor_kind: "nestedobjatt",
                    members: Members::Object(fields, group),
                });
                (kind, nested)
            }
            (None, None) => {
                return Err(Error::Schema(format!(
                    "{owner}: attribute {} has neither a type nor a nested type",
                    here.join(".")
                )));
            }
        };
        let marks = [
            (attribute.sensitive, "Sensitive"),
            (attribute.write_only, "Write-only"),
            (attribute.deprecated, "Deprecated"),
        ]
        .into_iter()
        .filter_map(|(set, mark)| set.then_some(mark))
        .collect();
        out.push(Entry {
            name,
            group,
            kind,
            marks,
            description: &attribute.description,
            nested,
        });
    }
    Ok(out)
}

type ObjectFields = Map<String, Json>;

/// The name of a cty type as the registry pages write it, and the fields of
/// the object type inside it, if any, which then get a subsection.
fn type_name<'a>(
    owner: &str,
    path: &[&str],
    ty: &'a Json,
) -> Result<(String, Option<&'a ObjectFields>), Error> {
    let unknown = || {
        Error::Schema(format!(
            "{owner}: attribute {} has a type docgen does not know: {ty}",
            path.join(".")
        ))
    };
    match ty {
        Json::String(name) => Ok((
            match name.as_str() {
                "string" => "String",
                "number" => "Number",
                "bool" => "Bool",
                "dynamic" => "Dynamic",
                _ => return Err(unknown()),
            }
            .to_owned(),
            None,
        )),
        Json::Array(parts) => match (parts.first().and_then(Json::as_str), parts.get(1)) {
            (Some(collection @ ("list" | "set" | "map")), Some(element)) => {
                let (element, object) = type_name(owner, path, element)?;
                let collection = match collection {
                    "list" => "List",
                    "set" => "Set",
                    _ => "Map",
                };
                Ok((format!("{collection} of {element}"), object))
            }
            (Some("object"), Some(Json::Object(fields))) => Ok(("Object".to_owned(), Some(fields))),
            (Some("tuple"), Some(Json::Array(_))) => Ok(("Tuple".to_owned(), None)),
            _ => Err(unknown()),
        },
        _ => Err(unknown()),
    }
}

/// Every attribute and block must say what it is: the description is the
/// only text the page has for it.
fn require_description(owner: &str, path: &[&str], description: &str) -> Result<(), Error> {
    if description.trim().is_empty() {
        return Err(Error::Schema(format!(
            "{owner}: {} has no description; add one to its schema definition",
            path.join(".")
        )));
    }
    Ok(())
}

fn identity_section(owner: &str, identity: &IdentitySchema) -> Result<String, Error> {
    let mut by_group: BTreeMap<Group, Vec<String>> = BTreeMap::new();
    for (name, attribute) in &identity.attributes {
        let path = ["identity", name.as_str()];
        require_description(owner, &path, &attribute.description)?;
        let (kind, _) = type_name(owner, &path, &attribute.ty)?;
        let group = if attribute.required_for_import {
            Group::Required
        } else {
            Group::Optional
        };
        let entry = Entry {
            name,
            group,
            kind,
            marks: Vec::new(),
            description: &attribute.description,
            nested: None,
        };
        by_group.entry(group).or_default().push(entry.line());
    }
    let mut chunks = vec![
        "## Identity Schema".to_owned(),
        "Terraform 1.12 and later store this identity beside each object's state: the \
         attributes that name the remote object."
            .to_owned(),
    ];
    for (group, lines) in by_group {
        chunks.push(format!("### {}", group.label()));
        chunks.push(lines.join("\n"));
    }
    Ok(chunks.join("\n\n"))
}
