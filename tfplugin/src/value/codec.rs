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
    /// The bytes are not well-formed msgpack or JSON (they end too soon,
    /// hold invalid UTF-8, a dynamic value lacks its type...).
    #[error("at {path}: malformed input: {detail}")]
    Malformed {
        /// Where the decoder was when it noticed.
        path: AttrPath,
        /// What is wrong, from the codec.
        detail: String,
    },
    /// A value of another kind than the type asks for.
    #[error("at {path}: expected {expected}, found {found}")]
    TypeMismatch {
        /// Where the value is.
        path: AttrPath,
        /// The expected type or kind.
        expected: String,
        /// The kind found instead.
        found: &'static str,
    },
    /// An object attribute that the object type does not have.
    #[error("at {path}: unsupported attribute {name:?}")]
    UnexpectedAttribute {
        /// Where the object is.
        path: AttrPath,
        /// The attribute's name.
        name: String,
    },
    /// A tuple with another number of elements than its type.
    #[error("at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        /// Where the tuple is.
        path: AttrPath,
        /// The number of elements of the type.
        expected: usize,
        /// The number of elements found.
        found: usize,
    },
    /// A number that cannot be read, or is out of range.
    #[error("at {path}: {source}")]
    InvalidNumber {
        /// Where the number is.
        path: AttrPath,
        /// Why it cannot be read.
        #[source]
        source: NumberError,
    },
    /// A value under the `dynamic` type whose type description cannot be
    /// understood.
    #[error("at {path}: dynamic value carries a bad type: {source}")]
    InvalidDynamicType {
        /// Where the value is.
        path: AttrPath,
        /// Why its type description cannot be understood.
        #[source]
        source: TypeParseError,
    },
    /// A value nested deeper than [`MAX_NESTING`].
    #[error("at {path}: value nests deeper than {MAX_NESTING} levels")]
    TooDeep {
        /// Where the limit was reached.
        path: AttrPath,
    },
    /// Bytes left over after one whole value.
    #[error("{count} unexpected bytes after the value")]
    TrailingData {
        /// How many.
        count: usize,
    },
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
    /// A value of another kind than the type asks for.
    #[error("at {path}: a {found} value cannot be encoded as {expected}")]
    TypeMismatch {
        /// Where the value is.
        path: AttrPath,
        /// The type it should have.
        expected: String,
        /// The kind of value it is.
        found: &'static str,
    },
    /// An object attribute that the object type does not have.
    #[error("at {path}: unsupported attribute {name:?}")]
    UnexpectedAttribute {
        /// Where the object is.
        path: AttrPath,
        /// The attribute's name.
        name: String,
    },
    /// A tuple with another number of elements than its type.
    #[error("at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        /// Where the tuple is.
        path: AttrPath,
        /// The number of elements of the type.
        expected: usize,
        /// The number of elements of the value.
        found: usize,
    },
    /// An unknown value, which the JSON encoding has no way to write
    /// (msgpack has).
    #[error("at {path}: JSON cannot represent unknown values")]
    UnknownInJson {
        /// Where the value is.
        path: AttrPath,
    },
    /// An infinite number, which JSON has no way to write.
    #[error("at {path}: JSON cannot represent infinity")]
    InfinityInJson {
        /// Where the number is.
        path: AttrPath,
    },
    /// A value under the `dynamic` type that is not wrapped in
    /// [`Value::Dynamic`](super::Value::Dynamic) and whose type cannot be
    /// inferred from it (an empty list, say).
    #[error(
        "at {path}: the type of a value in a dynamic slot cannot be inferred; wrap it in Value::Dynamic"
    )]
    UninferableDynamic {
        /// Where the value is.
        path: AttrPath,
    },
    /// A value nested deeper than [`MAX_NESTING`].
    #[error("at {path}: value nests deeper than {MAX_NESTING} levels")]
    TooDeep {
        /// Where the limit was reached.
        path: AttrPath,
    },
    /// The msgpack writer failed: a collection too long for msgpack's
    /// 32-bit lengths (writing into memory cannot otherwise fail).
    #[error("at {path}: {detail}")]
    Write {
        /// Where the value is.
        path: AttrPath,
        /// What failed.
        detail: String,
    },
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
