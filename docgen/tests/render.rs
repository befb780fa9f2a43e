//! docgen over a made-up provider with every kind of object and nesting,
//! in a scratch directory.

use docgen::{Drift, ProviderSource, compare, generate, write};
use std::path::{Path, PathBuf};

const SCHEMA: &str = r#"{
  "format_version": "1.0",
  "provider_schemas": {
    "registry.terraform.io/acme/x": {
      "provider": {"version": 0, "block": {
        "description": "The x provider.",
        "attributes": {"token": {"type": "string", "description": "API token.", "optional": true, "sensitive": true}}
      }},
      "resource_schemas": {"x_thing": {"version": 0, "block": {
        "description": "A thing.",
        "attributes": {
          "name": {"type": "string", "description": "Its name.", "required": true},
          "id": {"type": "string", "description": "Its ID.", "computed": true},
          "tags": {"type": ["map", "string"], "description": "Tags.", "optional": true, "computed": true},
          "ports": {"type": ["list", ["object", {"from": "number", "to": "number"}]], "description": "Ports.", "computed": true},
          "secret": {"type": "string", "description": "Never stored.", "optional": true, "write_only": true},
          "spec": {"nested_type": {"nesting_mode": "single", "attributes": {
            "size": {"type": "number", "description": "Size.", "required": true}
          }}, "description": "Spec.", "optional": true}
        },
        "block_types": {
          "rule": {"nesting_mode": "list", "min_items": 1, "max_items": 3, "block": {
            "description": "A rule.",
            "attributes": {"action": {"type": "string", "description": "What to do.", "required": true}},
            "block_types": {"match": {"nesting_mode": "single", "block": {
              "description": "What it matches.",
              "attributes": {"path": {"type": "string", "description": "A path.", "optional": true}}
            }}}
          }},
          "timeouts": {"nesting_mode": "single", "block": {
            "description": "Time limits.",
            "attributes": {"create": {"type": "string", "description": "Create limit.", "optional": true}}
          }}
        }
      }}},
      "resource_identity_schemas": {"x_thing": {"version": 0, "attributes": {
        "id": {"type": "string", "description": "Its ID.", "required_for_import": true},
        "region": {"type": "string", "description": "Its region.", "optional_for_import": true}
      }}},
      "data_source_schemas": {"x_lookup": {"version": 0, "block": {
        "description": "Finds a thing.",
        "attributes": {"name": {"type": "string", "description": "The name.", "required": true}}
      }}},
      "list_resource_schemas": {"x_thing": {"version": 0, "block": {
        "description": "Lists things.",
        "attributes": {"prefix": {"type": "string", "description": "Name prefix.", "optional": true}}
      }}},
      "action_schemas": {"x_poke": {"block": {
        "description": "Pokes a thing.",
        "attributes": {"thing_id": {"type": "string", "description": "Which thing.", "required": true}}
      }, "unlinked": {}}}
    }
  }
}"#;

fn source() -> ProviderSource {
    ProviderSource::parse("acme/x").unwrap()
}

fn put(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "examples/provider/provider.tf",
        "provider \"x\" {}\n",
    );
    put(
        dir.path(),
        "examples/resources/x_thing/resource.tf",
        "resource \"x_thing\" \"a\" {\n  name = \"a\"\n}\n",
    );
    put(
        dir.path(),
        "examples/resources/x_thing/import.sh",
        "terraform import x_thing.a 123\n",
    );
    put(
        dir.path(),
        "examples/list-resources/x_thing/list-resource.tfquery.hcl",
        "list \"x_thing\" \"all\" {\n  provider = x\n}\n",
    );
    put(
        dir.path(),
        "examples/quickstart/main.tf",
        "# not a registry example: ignored\n",
    );
    put(
        dir.path(),
        "templates/resources/thing.md",
        "{{description}}\n\n~> Hand-written warning.\n\n{{example}}\n\n{{schema}}\n\n{{import}}\n\n## Notes\n\nMore.\n",
    );
    put(
        dir.path(),
        "templates/guides/moving.md",
        "---\npage_title: \"Moving things\"\nsubcategory: \"\"\n---\n\n# Moving\n",
    );
    dir
}

#[test]
fn every_kind_gets_its_folder_and_only_those_that_exist() {
    let dir = project();
    let docs = generate(SCHEMA, dir.path(), &source()).unwrap();
    let paths: Vec<PathBuf> = docs.files.keys().cloned().collect();
    let expected = [
        "actions/poke.md",
        "data-sources/lookup.md",
        "guides/moving.md",
        "index.md",
        "list-resources/thing.md",
        "resources/thing.md",
    ];
    assert_eq!(paths, expected.map(PathBuf::from));
    assert!(docs.files[Path::new("index.md")].contains("# X Provider\n\nThe x provider."));
    assert!(docs.files[Path::new("index.md")].contains("- `token` (String, Sensitive) API token."));
    assert!(
        docs.files[Path::new("list-resources/thing.md")]
            .contains("```terraform\nlist \"x_thing\" \"all\"")
    );
    assert!(
        docs.files[Path::new("actions/poke.md")]
            .starts_with("---\npage_title: \"x_poke Action - x\"")
    );
    assert_eq!(
        docs.files[Path::new("guides/moving.md")],
        "---\npage_title: \"Moving things\"\nsubcategory: \"\"\n---\n\n# Moving\n"
    );
}

#[test]
fn the_resource_page_lists_attributes_nested_schemas_and_identity_in_order() {
    let dir = project();
    let docs = generate(SCHEMA, dir.path(), &source()).unwrap();
    let page = &docs.files[Path::new("resources/thing.md")];
    let expected = "\
## Schema

### Required

- `name` (String) Its name.
- `rule` (Block List, Min: 1, Max: 3) A rule. (see [below for nested schema](#nestedblock--rule))

### Optional

- `secret` (String, Write-only) Never stored.
- `spec` (Attributes) Spec. (see [below for nested schema](#nestedatt--spec))
- `tags` (Map of String) Tags.
- `timeouts` (Block) Time limits. (see [below for nested schema](#nestedblock--timeouts))

### Read-Only

- `id` (String) Its ID.
- `ports` (List of Object) Ports. (see [below for nested schema](#nestedobjatt--ports))

<a id=\"nestedblock--rule\"></a>
### Nested Schema for `rule`

Required:

- `action` (String) What to do.

Optional:

- `match` (Block) What it matches. (see [below for nested schema](#nestedblock--rule--match))

<a id=\"nestedatt--spec\"></a>
### Nested Schema for `spec`

Required:

- `size` (Number) Size.

<a id=\"nestedblock--timeouts\"></a>
### Nested Schema for `timeouts`

Optional:

- `create` (String) Create limit.

<a id=\"nestedobjatt--ports\"></a>
### Nested Schema for `ports`

Read-Only:

- `from` (Number)
- `to` (Number)

<a id=\"nestedblock--rule--match\"></a>
### Nested Schema for `rule.match`

Optional:

- `path` (String) A path.

## Identity Schema

Terraform 1.12 and later store this identity beside each object's state: the attributes that name the remote object.

### Required

- `id` (String) Its ID.

### Optional

- `region` (String) Its region.

## Import

An existing object can be imported, for example:

```shell
terraform import x_thing.a 123
```

## Notes

More.
";
    let schema_at = page.find("## Schema").unwrap();
    assert_eq!(&page[schema_at..], expected);
    assert!(page.contains("A thing.\n\n~> Hand-written warning.\n\n## Example Usage\n\n```terraform\nresource \"x_thing\""));
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let dir = project();
    let first = generate(SCHEMA, dir.path(), &source()).unwrap();
    // Terraform is free to print keys in any order.
    let reordered: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    let second = generate(&reordered.to_string(), dir.path(), &source()).unwrap();
    assert_eq!(first.files, second.files);
}

#[test]
fn check_names_each_file_that_differs_is_missing_or_is_extra() {
    let dir = project();
    let docs = generate(SCHEMA, dir.path(), &source()).unwrap();
    assert_eq!(write(&docs, dir.path()).unwrap().len(), docs.files.len());
    assert_eq!(compare(&docs, dir.path()).unwrap(), []);

    put(dir.path(), "docs/resources/thing.md", "---\nchanged\n");
    std::fs::remove_file(dir.path().join("docs/actions/poke.md")).unwrap();
    put(dir.path(), "docs/resources/old.md", "stale\n");
    let drift = compare(&docs, dir.path()).unwrap();
    assert_eq!(
        drift,
        [
            Drift::Missing("actions/poke.md".into()),
            Drift::Extra("resources/old.md".into()),
            Drift::Differs {
                path: "resources/thing.md".into(),
                line: 2
            },
        ]
    );
    assert_eq!(drift[1].to_string(), "extra:   docs/resources/old.md");

    write(&docs, dir.path()).unwrap();
    assert_eq!(compare(&docs, dir.path()).unwrap(), []);
    assert!(!dir.path().join("docs/resources/old.md").exists());
}

#[test]
fn examples_and_templates_that_match_nothing_are_refused() {
    for (stray, named) in [
        ("examples/resources/x_gone/resource.tf", "x_gone"),
        ("examples/resources/x_thing/resource-2.tf", "resource-2.tf"),
        ("templates/data-sources/gone.md", "gone.md"),
        ("templates/functions/f.md", "functions"),
    ] {
        let dir = project();
        put(dir.path(), stray, "x\n");
        let err = generate(SCHEMA, dir.path(), &source())
            .unwrap_err()
            .to_string();
        assert!(err.contains(named), "{stray}: {err}");
    }
}

#[test]
fn an_attribute_without_a_description_is_refused() {
    let dir = project();
    let schema = SCHEMA.replace(r#""description": "Size.", "#, "");
    let err = generate(&schema, dir.path(), &source())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x_thing: spec.size has no description"),
        "{err}"
    );
}
