//! Attribute paths: where in a value something is.

use std::fmt;

/// Where in a value something is, printed the way Terraform prints paths:
/// `.keepers["a"]`, `.rules[0].name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AttributePath(Vec<PathStep>);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object attribute.
    Attribute(String),
    /// A map key.
    Key(String),
    /// A list, set or tuple position (for sets: position on the wire).
    Index(u64),
}

impl AttributePath {
    pub fn root() -> AttributePath {
        AttributePath::default()
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }
}

impl From<&[PathStep]> for AttributePath {
    fn from(steps: &[PathStep]) -> AttributePath {
        AttributePath(steps.to_vec())
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> AttributePath {
        AttributePath(steps)
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for step in &self.0 {
            match step {
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
        let path = AttributePath::from(vec![
            PathStep::Attribute("keepers".into()),
            PathStep::Key("a".into()),
            PathStep::Index(3),
        ]);
        assert_eq!(path.to_string(), r#".keepers["a"][3]"#);
        assert_eq!(AttributePath::root().to_string(), "(root)");
    }
}
