//! What the msgpack and JSON codecs share: the walk through a value that
//! tracks path and nesting depth, and the errors both report.

use super::{AttrPath, NumberError, PathStep, TypeParseError};

/// How deeply values may nest before a decoder gives up. Terraform schemas
/// are far shallower; the limit exists so hostile input cannot exhaust the
/// stack (serde_json applies the same limit to plain JSON nesting).
pub const MAX_NESTING: usize = 128;

/// Where a codec is while it walks a value: the path, for error texts, and
/// the nesting depth, counted apart from the path because dynamic wrappers
/// nest without adding path steps.
#[derive(Default)]
pub(crate) struct Walk {
    steps: Vec<PathStep>,
    depth: usize,
}

impl Walk {
    pub(crate) fn path(&self) -> AttrPath {
        AttrPath::from(self.steps.as_slice())
    }
}

/// A codec that walks values, keeping its [`Walk`] up to date.
pub(crate) trait Walker: Sized {
    fn walk(&mut self) -> &mut Walk;

    /// Runs `f` one path step further.
    fn at<R>(&mut self, step: PathStep, f: impl FnOnce(&mut Self) -> R) -> R {
        self.walk().steps.push(step);
        let result = f(self);
        self.walk().steps.pop();
        result
    }

    /// Runs `f` one nesting level deeper, refusing to go past
    /// [`MAX_NESTING`] so hostile input cannot exhaust the stack.
    fn deeper<T, E: From<TooDeep>>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, E> {
        let walk = self.walk();
        if walk.depth >= MAX_NESTING {
            return Err(TooDeep(walk.path()).into());
        }
        walk.depth += 1;
        let result = f(self);
        self.walk().depth -= 1;
        result
    }
}

/// A value nested deeper than [`MAX_NESTING`], at this path.
pub(crate) struct TooDeep(AttrPath);

impl From<TooDeep> for DecodeError {
    fn from(TooDeep(path): TooDeep) -> DecodeError {
        DecodeError::TooDeep { path }
    }
}

impl From<TooDeep> for EncodeError {
    fn from(TooDeep(path): TooDeep) -> EncodeError {
        EncodeError::TooDeep { path }
    }
}

/// Why wire bytes could not be decoded. Texts name the path and the
/// expected/found kinds, never the offending data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("at {path}: malformed input: {detail}")]
    Malformed { path: AttrPath, detail: String },
    #[error("at {path}: expected {expected}, found {found}")]
    TypeMismatch {
        path: AttrPath,
        expected: String,
        found: &'static str,
    },
    #[error("at {path}: unsupported attribute {name:?}")]
    UnexpectedAttribute { path: AttrPath, name: String },
    #[error("at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        path: AttrPath,
        expected: usize,
        found: usize,
    },
    #[error("at {path}: {source}")]
    InvalidNumber {
        path: AttrPath,
        #[source]
        source: NumberError,
    },
    #[error("at {path}: dynamic value carries a bad type: {source}")]
    InvalidDynamicType {
        path: AttrPath,
        #[source]
        source: TypeParseError,
    },
    #[error("at {path}: value nests deeper than {MAX_NESTING} levels")]
    TooDeep { path: AttrPath },
    #[error("{count} unexpected bytes after the value")]
    TrailingData { count: usize },
}

impl DecodeError {
    /// Where the problem is (`None` for trailing bytes after the value).
    pub fn path(&self) -> Option<&AttrPath> {
        match self {
            DecodeError::Malformed { path, .. }
            | DecodeError::TypeMismatch { path, .. }
            | DecodeError::UnexpectedAttribute { path, .. }
            | DecodeError::TupleLength { path, .. }
            | DecodeError::InvalidNumber { path, .. }
            | DecodeError::InvalidDynamicType { path, .. }
            | DecodeError::TooDeep { path } => Some(path),
            DecodeError::TrailingData { .. } => None,
        }
    }
}

/// Why a value could not be encoded under a type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("at {path}: a {found} value cannot be encoded as {expected}")]
    TypeMismatch {
        path: AttrPath,
        expected: String,
        found: &'static str,
    },
    #[error("at {path}: unsupported attribute {name:?}")]
    UnexpectedAttribute { path: AttrPath, name: String },
    #[error("at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        path: AttrPath,
        expected: usize,
        found: usize,
    },
    #[error("at {path}: JSON cannot represent unknown values")]
    UnknownInJson { path: AttrPath },
    #[error("at {path}: JSON cannot represent infinity")]
    InfinityInJson { path: AttrPath },
    #[error(
        "at {path}: the type of a value in a dynamic slot cannot be inferred; wrap it in Value::Dynamic"
    )]
    UninferableDynamic { path: AttrPath },
    #[error("at {path}: value nests deeper than {MAX_NESTING} levels")]
    TooDeep { path: AttrPath },
    #[error("at {path}: {detail}")]
    Write { path: AttrPath, detail: String },
}

impl EncodeError {
    /// Where the problem is.
    pub fn path(&self) -> &AttrPath {
        match self {
            EncodeError::TypeMismatch { path, .. }
            | EncodeError::UnexpectedAttribute { path, .. }
            | EncodeError::TupleLength { path, .. }
            | EncodeError::UnknownInJson { path }
            | EncodeError::InfinityInJson { path }
            | EncodeError::UninferableDynamic { path }
            | EncodeError::TooDeep { path }
            | EncodeError::Write { path, .. } => path,
        }
    }
}
