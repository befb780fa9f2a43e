//! One page: generated front matter and title, then the body, either in
//! the default order or as a hand-written template lays it out.
//!
//! A template is markdown with placeholder lines, each alone on its line:
//! `{{description}}`, `{{example}}`, `{{schema}}` and `{{import}}`. Each
//! expands to the generated part (a missing example or import expands to
//! nothing); everything else is copied as written. A template must place
//! `{{schema}}`, and must place `{{example}}` / `{{import}}` when there is
//! an example / import file, so nothing generated can be dropped by
//! accident.

use crate::Error;
use std::path::Path;

/// The generated parts of a page, before layout.
pub struct Page {
    pub page_title: String,
    pub title: String,
    pub description: String,
    /// The example file's text.
    pub example: Option<String>,
    /// The import script's text (resources only).
    pub import: Option<String>,
    /// The rendered `## Schema` section.
    pub schema: String,
}

const DEFAULT_LAYOUT: &str = "{{description}}\n{{example}}\n{{schema}}\n{{import}}\n";

impl Page {
    /// The whole page. `template` is the hand-written layout and its path
    /// (for errors), if the object has one.
    pub fn render(&self, template: Option<(&Path, &str)>) -> Result<String, Error> {
        let (layout, origin) = match template {
            Some((path, text)) => (text, Some(path)),
            None => (DEFAULT_LAYOUT, None),
        };
        let fail = |problem: String| match origin {
            Some(path) => Error::Template {
                path: path.to_owned(),
                problem,
            },
            // The default layout is fixed and places every part.
            None => Error::Schema(problem),
        };
        if layout.starts_with("---") {
            return Err(fail(
                "starts with front matter, which is generated; remove it".to_owned(),
            ));
        }

        let mut chunks = vec![self.front_matter(), self.title.clone()];
        let mut text = String::new();
        let mut used = Vec::new();
        for line in layout.lines() {
            let trimmed = line.trim();
            let slot = trimmed
                .strip_prefix("{{")
                .and_then(|rest| rest.strip_suffix("}}"))
                .map(str::trim);
            let Some(slot) = slot else {
                if line.contains("{{") {
                    return Err(fail(format!(
                        "{line:?}: a placeholder must stand alone on its line"
                    )));
                }
                text.push_str(line);
                text.push('\n');
                continue;
            };
            if used.contains(&slot) {
                return Err(fail(format!("{{{{{slot}}}}} appears twice")));
            }
            let part = match slot {
                "description" => Some(self.description.trim().to_owned()),
                "example" => self.example.as_deref().map(example_section),
                "schema" => Some(self.schema.clone()),
                "import" => self.import.as_deref().map(import_section),
                other => {
                    return Err(fail(format!(
                        "unknown placeholder {{{{{other}}}}}; the placeholders are \
                         {{{{description}}}}, {{{{example}}}}, {{{{schema}}}} and {{{{import}}}}"
                    )));
                }
            };
            used.push(slot);
            chunks.push(std::mem::take(&mut text));
            chunks.extend(part);
        }
        chunks.push(text);
        for (slot, needed) in [
            ("schema", true),
            ("example", self.example.is_some()),
            ("import", self.import.is_some()),
        ] {
            if needed && !used.contains(&slot) {
                return Err(fail(format!(
                    "has no {{{{{slot}}}}} line, so the generated {slot} would be left out"
                )));
            }
        }
        Ok(join(chunks))
    }

    fn front_matter(&self) -> String {
        let description: Vec<String> = self
            .description
            .trim()
            .lines()
            .map(|line| match line.trim_end() {
                "" => String::new(),
                text => format!("  {text}"),
            })
            .collect();
        format!(
            "---\npage_title: {}\nsubcategory: \"\"\ndescription: |-\n{}\n---",
            serde_json::Value::String(self.page_title.clone()),
            description.join("\n")
        )
    }
}

fn example_section(example: &str) -> String {
    format!(
        "## Example Usage\n\n```terraform\n{}\n```",
        example.trim_end()
    )
}

fn import_section(import: &str) -> String {
    format!(
        "## Import\n\nAn existing object can be imported, for example:\n\n```shell\n{}\n```",
        import.trim_end()
    )
}

/// The chunks with blank lines trimmed off their edges, one blank line
/// between each two, and one newline at the end of the page.
fn join(chunks: Vec<String>) -> String {
    let mut page = chunks
        .iter()
        .map(|chunk| trim_blank_lines(chunk))
        .filter(|chunk| !chunk.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    page.push('\n');
    page
}

fn trim_blank_lines(text: &str) -> &str {
    let start = text
        .char_indices()
        .take_while(|(_, c)| c.is_whitespace())
        .filter(|(_, c)| *c == '\n')
        .map(|(i, _)| i + 1)
        .last()
        .unwrap_or(0);
    text[start..].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(example: Option<&str>) -> Page {
        Page {
            page_title: "x_thing Resource - x".to_owned(),
            title: "# x_thing (Resource)".to_owned(),
            description: "A thing.\n\nOf x.".to_owned(),
            example: example.map(str::to_owned),
            import: None,
            schema: "## Schema\n\n### Required\n\n- `name` (String) Its name.".to_owned(),
        }
    }

    #[test]
    fn the_default_layout_places_every_part_once() {
        let text = page(Some("resource \"x_thing\" \"a\" {}\n\n"))
            .render(None)
            .unwrap();
        assert_eq!(
            text,
            "---\npage_title: \"x_thing Resource - x\"\nsubcategory: \"\"\ndescription: |-\n  \
             A thing.\n\n  Of x.\n---\n\n# x_thing (Resource)\n\nA thing.\n\nOf x.\n\n\
             ## Example Usage\n\n```terraform\nresource \"x_thing\" \"a\" {}\n```\n\n\
             ## Schema\n\n### Required\n\n- `name` (String) Its name.\n"
        );
    }

    #[test]
    fn a_template_keeps_its_text_between_the_parts() {
        let template =
            "{{description}}\n\n~> Careful.\n\n{{ schema }}\n\n\n## Notes\n\n  indented\n";
        let text = page(None)
            .render(Some((Path::new("t.md"), template)))
            .unwrap();
        assert!(
            text.ends_with("Of x.\n\n~> Careful.\n\n## Schema\n\n### Required\n\n- `name` (String) Its name.\n\n## Notes\n\n  indented\n"),
            "{text}"
        );
    }

    #[test]
    fn a_template_cannot_drop_a_generated_part() {
        let no_schema = page(None).render(Some((Path::new("t.md"), "{{description}}\n")));
        assert!(no_schema.unwrap_err().to_string().contains("{{schema}}"));
        let no_example = page(Some("x")).render(Some((Path::new("t.md"), "{{schema}}\n")));
        assert!(no_example.unwrap_err().to_string().contains("{{example}}"));
    }

    #[test]
    fn unknown_or_inline_placeholders_are_refused() {
        for template in [
            "{{schema}}\n{{examples}}\n",
            "{{schema}}\nSee {{example}}.\n",
        ] {
            let err = page(None)
                .render(Some((Path::new("t.md"), template)))
                .unwrap_err();
            assert!(err.to_string().contains("t.md"), "{err}");
        }
    }
}
