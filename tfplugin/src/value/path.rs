//! Attribute paths: where in a value something is. One type serves the
//! codecs' error texts, the attributes a diagnostic points at and the
//! attributes a plan says force replacement.

use std::fmt;

use crate::proto::tfplugin6 as pb;

/// Where in a value something is, printed the way Terraform prints paths:
/// `.keepers["a"]`, `.rules[0].name`, and `(root)` for the whole value.
///
/// Build one from the top-level attribute down:
/// `AttrPath::root("rules").index(0).attribute("name")`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AttrPath(Vec<PathStep>);

/// One step of an [`AttrPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object attribute.
    Attribute(String),
    /// A map key.
    Key(String),
    /// A list, set or tuple position (for sets: position on the wire).
    Index(u64),
}

impl AttrPath {
    /// The path to the top-level attribute `name`.
    pub fn root(name: &str) -> AttrPath {
        AttrPath(vec![PathStep::Attribute(name.to_owned())])
    }

    /// The empty path: the whole value, printed `(root)`.
    pub fn empty() -> AttrPath {
        AttrPath::default()
    }

    /// This path, one attribute further.
    pub fn attribute(mut self, name: &str) -> AttrPath {
        self.0.push(PathStep::Attribute(name.to_owned()));
        self
    }

    /// This path, one map key further.
    pub fn key(mut self, key: &str) -> AttrPath {
        self.0.push(PathStep::Key(key.to_owned()));
        self
    }

    /// This path, one list, set or tuple position further.
    pub fn index(mut self, index: u64) -> AttrPath {
        self.0.push(PathStep::Index(index));
        self
    }

    /// The steps from the top of the value down.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// The name of the last attribute step, if any: what a path names in
    /// a summary ("Invalid create" for `timeouts.create`).
    pub fn last_attribute(&self) -> Option<&str> {
        self.0.iter().rev().find_map(|step| match step {
            PathStep::Attribute(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// True for the path to the whole value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds one step at the end.
    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }

    /// The path as the protocol carries it (diagnostics, `requires_replace`).
    pub(crate) fn to_proto(&self) -> pb::AttributePath {
        use pb::attribute_path::step::Selector;
        let steps = self
            .0
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    // Positions index in-memory collections, so they fit
                    // the protocol's int64.
                    PathStep::Index(index) => {
                        Selector::ElementKeyInt(i64::try_from(*index).unwrap_or(i64::MAX))
                    }
                }),
            })
            .collect();
        pb::AttributePath { steps }
    }
}

impl From<&[PathStep]> for AttrPath {
    fn from(steps: &[PathStep]) -> AttrPath {
        AttrPath(steps.to_vec())
    }
}

impl From<Vec<PathStep>> for AttrPath {
    fn from(steps: Vec<PathStep>) -> AttrPath {
        AttrPath(steps)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                // As a user writes it: `timeouts.create`, not `.timeouts.create`.
                PathStep::Attribute(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_terraform() {
        let path = AttrPath::from(vec![
            PathStep::Attribute("keepers".into()),
            PathStep::Key("a".into()),
            PathStep::Index(3),
        ]);
        assert_eq!(path.to_string(), r#"keepers["a"][3]"#);
        assert_eq!(AttrPath::empty().to_string(), "(root)");
        let built = AttrPath::root("keepers")
            .key("rotation")
            .attribute("x")
            .index(2);
        assert_eq!(built.to_string(), r#"keepers["rotation"].x[2]"#);
    }

    #[test]
    fn paths_travel_as_protocol_steps() {
        use pb::attribute_path::step::Selector;
        let proto = AttrPath::root("rules").index(1).key("k").to_proto();
        let selectors: Vec<_> = proto.steps.into_iter().map(|s| s.selector).collect();
        assert_eq!(
            selectors,
            [
                Some(Selector::AttributeName("rules".into())),
                Some(Selector::ElementKeyInt(1)),
                Some(Selector::ElementKeyString("k".into())),
            ]
        );
    }
}
