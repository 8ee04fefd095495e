//! JSONPath as Amazon States Language uses it (the Jayway dialect AWS runs).
//!
//! One parsed [`Path`] serves every place ASL takes a path: `InputPath`, `OutputPath`,
//! `ResultPath` (via [`Path::set`]), `"key.$"` fields in `Parameters`, Choice `Variable`s and
//! intrinsic-function arguments. A path starts at `$` (the state input), `$$` (the context
//! object) or `$name` (a workflow variable).
//!
//! The text is parsed once into a list of segments; [`Path::select`] walks them without
//! re-parsing. Results follow Jayway, as AWS does: a *definite* path (only names and single
//! indexes) yields one value or [`NotFound`]; any other path yields a JSON array of every match,
//! possibly empty.
//!
//! ```
//! use baton_jsonpath::Path;
//! use serde_json::json;
//!
//! let doc = json!({"store": {"book": [{"title": "A", "price": 8}, {"title": "B", "price": 12}]}});
//! let title = Path::parse("$.store.book[0].title").unwrap();
//! assert_eq!(title.select(&doc).unwrap(), json!("A"));
//! let cheap = Path::parse("$.store.book[?(@.price < 10)].title").unwrap();
//! assert_eq!(cheap.select(&doc).unwrap(), json!(["A"]));
//! let missing = Path::parse("$.NoSuchInputPath").unwrap();
//! assert_eq!(
//!     missing.select(&doc).unwrap_err().to_string(),
//!     "No results for path: $['NoSuchInputPath']"
//! );
//! ```
//!
//! Where this crate knowingly differs from Jayway (each difference is a row in
//! `tests/cases.txt`):
//! - slices take an optional step (`[::2]`) and negative bounds count from the end everywhere,
//!   as in Python; Jayway 2.x has no step and mishandles `[-3:2]`;
//! - `!` negates any filter term; Jayway only honours it before an existence check;
//! - `]` in a dot-name is a parse error (Jayway makes it part of the name);
//! - an existence check on an indefinite path (`[?(@.a[*])]`) needs at least one match.
//!
//! Jayway's path functions (`length()`, `sum()`, ...) are not run, as on AWS: `$.Jobs.sum()`
//! is a path to a member named `sum()`, which AWS reports as not found at run time.
#![warn(missing_docs)]

mod eval;
mod filter;
mod parse;
mod set;

use serde_json::Value;

use crate::parse::Segment;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the effective input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// A parsed JSONPath.
#[derive(Debug, Clone)]
pub struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
    definite: bool,
    reference: bool,
}

/// The path text is not valid JSONPath.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Human-readable reason.
    pub message: String,
}

/// A definite path matched nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("No results for path: {normalized}")]
pub struct NotFound {
    /// The path in Jayway's normalized form, e.g. `$['a'][0]`.
    pub normalized: String,
}

/// Writing a value at a path failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SetError {
    /// Human-readable reason. When the path cannot be applied to the target this is AWS's
    /// `States.ResultPathMatchFailure` cause: `Unable to apply ReferencePath $.a.b to input {...}`.
    pub message: String,
}

impl Path {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Path, ParseError> {
        let (root, segments) = parse::parse_path(text)?;
        let definite = parse::is_definite(&segments);
        let reference = segments
            .iter()
            .all(|segment| matches!(segment, Segment::Name(..) | Segment::Index(_)));
        Ok(Path {
            text: text.to_owned(),
            root,
            segments,
            definite,
            reference,
        })
    }
    /// The text the path was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Where the path starts.
    pub fn root(&self) -> &Root {
        &self.root
    }
    /// True when the path can match at most one value.
    pub fn is_definite(&self) -> bool {
        self.definite
    }
    /// True when the path is an ASL reference path (names and indexes only).
    pub fn is_reference(&self) -> bool {
        self.reference
    }
    /// Jayway's normalized form, e.g. `$['a'][0]`.
    pub fn normalized(&self) -> String {
        let mut out = String::from("$");
        if let Root::Variable(name) = &self.root {
            out.push_str(name);
        }
        for segment in &self.segments {
            segment.write_normalized(&mut out);
        }
        out
    }
    /// Evaluates the path against `root` (input, context object or variable value).
    pub fn select(&self, root: &Value) -> Result<Value, NotFound> {
        if self.reference {
            return match self.select_ref(root) {
                Some(value) => Ok(value.clone()),
                None => Err(self.not_found()),
            };
        }
        let hits = eval::evaluate(&self.segments, root);
        if self.definite {
            match hits.into_iter().next() {
                Some(hit) => Ok(hit.into_owned()),
                None => Err(self.not_found()),
            }
        } else {
            Ok(Value::Array(
                hits.into_iter().map(|hit| hit.into_owned()).collect(),
            ))
        }
    }
    /// Evaluates a reference path (names and single indexes only) without cloning.
    ///
    /// Returns `None` when nothing matches and also when the path is not a reference path
    /// (filters, wildcards, slices, unions, deep scan): use [`Path::select`] for those.
    pub fn select_ref<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        if !self.reference {
            return None;
        }
        let mut node = root;
        for segment in &self.segments {
            node = match segment {
                Segment::Name(name, _) => node.as_object()?.get(name)?,
                Segment::Index(index) => {
                    let array = node.as_array()?;
                    array.get(eval::effective_index(*index, array.len())?)?
                }
                _ => return None,
            };
        }
        Some(node)
    }
    /// Writes `value` at this reference path inside `target` (ResultPath semantics).
    ///
    /// `$` replaces the whole target. Missing intermediate objects are created; an
    /// intermediate that is not an object (or an index that is out of range or not into an
    /// array) fails with AWS's `States.ResultPathMatchFailure` message.
    pub fn set(&self, target: Value, value: Value) -> Result<Value, SetError> {
        if !self.reference {
            return Err(SetError {
                message: format!(
                    "The path '{}' is not a reference path: only names and single indexes can be written",
                    self.text
                ),
            });
        }
        set::set(&self.segments, target, value).map_err(|target| SetError {
            message: format!(
                "Unable to apply ReferencePath {} to input {}",
                self.text,
                serde_json::to_string(&target).unwrap_or_default()
            ),
        })
    }

    fn not_found(&self) -> NotFound {
        NotFound {
            normalized: self.normalized(),
        }
    }
}
