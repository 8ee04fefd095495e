//! Writing a value at a reference path: the ResultPath rules.
//!
//! A name whose member is missing is created (as an object when more segments follow); an
//! index must point into an existing array element. Anything else (a name applied to a
//! non-object, an index applied to a non-array or out of range) means the path cannot be
//! applied, which AWS reports as `States.ResultPathMatchFailure`. The check runs before any
//! change, so on failure the target comes back untouched for the error message.

use serde_json::{Map, Value};

use crate::eval::effective_index;
use crate::parse::Segment;

/// Writes `value` at `segments` (names and single indexes only) inside `target`. On failure
/// returns the unchanged target.
pub(crate) fn set(segments: &[Segment], mut target: Value, value: Value) -> Result<Value, Value> {
    if !applicable(segments, &target) {
        return Err(target);
    }
    write(segments, &mut target, value);
    Ok(target)
}

/// Whether [`write`] can place a value at `segments` inside `node`.
fn applicable(segments: &[Segment], node: &Value) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return true;
    };
    match first {
        Segment::Name(name, _) => match node.as_object() {
            Some(object) => match object.get(name) {
                Some(child) => applicable(rest, child),
                // The member will be created as an object, so only names can follow.
                None => rest.iter().all(|s| matches!(s, Segment::Name(..))),
            },
            None => false,
        },
        Segment::Index(index) => match node.as_array() {
            Some(array) => match effective_index(*index, array.len()) {
                Some(i) => applicable(rest, &array[i]),
                None => false,
            },
            None => false,
        },
        _ => false,
    }
}

/// Performs the write; [`applicable`] has checked every step.
fn write(segments: &[Segment], node: &mut Value, value: Value) {
    let Some((first, rest)) = segments.split_first() else {
        *node = value;
        return;
    };
    match (first, node) {
        (Segment::Name(name, _), Value::Object(object)) => {
            if rest.is_empty() {
                object.insert(name.clone(), value);
                return;
            }
            let child = object
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            write(rest, child, value);
        }
        (Segment::Index(index), Value::Array(array)) => {
            if let Some(child) = effective_index(*index, array.len()).and_then(|i| array.get_mut(i))
            {
                write(rest, child, value);
            }
        }
        _ => {}
    }
}
