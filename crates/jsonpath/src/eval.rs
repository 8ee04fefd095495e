//! Walking parsed segments over a document, collecting every match in document order.
//!
//! Matches are borrowed from the document; only a trailing multi-name bracket (`['a','b']`)
//! builds a new value, the merged object Jayway returns for it.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::parse::{Segment, Slice};

/// Every match of `segments` in `root`, in Jayway's order.
pub(crate) fn evaluate<'a>(segments: &[Segment], root: &'a Value) -> Vec<Cow<'a, Value>> {
    let mut out = Vec::new();
    walk(segments, root, root, &mut out);
    out
}

/// Resolves a possibly negative index against an array length.
pub(crate) fn effective_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let effective = if index < 0 {
        len.checked_add(index)?
    } else {
        index
    };
    if (0..len).contains(&effective) {
        usize::try_from(effective).ok()
    } else {
        None
    }
}

fn walk<'a>(segments: &[Segment], node: &'a Value, root: &'a Value, out: &mut Vec<Cow<'a, Value>>) {
    let Some((first, rest)) = segments.split_first() else {
        out.push(Cow::Borrowed(node));
        return;
    };
    match first {
        Segment::Name(name, _) => {
            if let Some(child) = node.as_object().and_then(|object| object.get(name)) {
                walk(rest, child, root, out);
            }
        }
        Segment::Names(names, _) => {
            let Some(object) = node.as_object() else {
                return;
            };
            if rest.is_empty() {
                // Jayway merges the named members of a leaf multi-name bracket into one
                // object, leaving out the missing ones.
                let mut merged = Map::new();
                for name in names {
                    if let Some(value) = object.get(name) {
                        merged.insert(name.clone(), value.clone());
                    }
                }
                out.push(Cow::Owned(Value::Object(merged)));
            } else {
                for name in names {
                    if let Some(child) = object.get(name) {
                        walk(rest, child, root, out);
                    }
                }
            }
        }
        Segment::Index(index) => {
            if let Some(array) = node.as_array()
                && let Some(child) = effective_index(*index, array.len()).and_then(|i| array.get(i))
            {
                walk(rest, child, root, out);
            }
        }
        Segment::Indexes(indexes) => {
            if let Some(array) = node.as_array() {
                for index in indexes {
                    if let Some(child) =
                        effective_index(*index, array.len()).and_then(|i| array.get(i))
                    {
                        walk(rest, child, root, out);
                    }
                }
            }
        }
        Segment::Slice(slice) => {
            if let Some(array) = node.as_array() {
                for i in slice_indices(*slice, array.len()) {
                    if let Some(child) = array.get(i) {
                        walk(rest, child, root, out);
                    }
                }
            }
        }
        Segment::Wildcard => match node {
            Value::Object(object) => {
                for child in object.values() {
                    walk(rest, child, root, out);
                }
            }
            Value::Array(array) => {
                for child in array {
                    walk(rest, child, root, out);
                }
            }
            _ => {}
        },
        Segment::Filter(expr) => match node {
            // Jayway applies a filter on an object to the object itself.
            Value::Object(_) if expr.test(node, root) => walk(rest, node, root, out),
            Value::Array(array) => {
                for child in array {
                    if expr.test(child, root) {
                        walk(rest, child, root, out);
                    }
                }
            }
            _ => {}
        },
        Segment::Scan => {
            if !rest.is_empty() {
                scan(rest, node, root, out);
            }
        }
    }
}

/// Deep scan as Jayway's `ScanPathToken` does it: at each object or array (parents before
/// children), apply the target segment where its predicate matches, then descend.
fn scan<'a>(segments: &[Segment], node: &'a Value, root: &'a Value, out: &mut Vec<Cow<'a, Value>>) {
    let Some((target, after)) = segments.split_first() else {
        return;
    };
    match node {
        Value::Object(object) => {
            if scan_matches(target, after.is_empty(), node, root) {
                walk(segments, node, root, out);
            }
            for child in object.values() {
                scan(segments, child, root, out);
            }
        }
        Value::Array(array) => {
            if scan_matches(target, after.is_empty(), node, root) {
                if after.is_empty() {
                    walk(segments, node, root, out);
                } else {
                    // Jayway quirk, kept for compatibility: on an array, a non-final scan
                    // target is skipped and the rest of the path runs on every element, so
                    // `$..[0].x` yields `x` of every element.
                    for child in array {
                        walk(after, child, root, out);
                    }
                }
            }
            for child in array {
                scan(segments, child, root, out);
            }
        }
        _ => {}
    }
}

fn scan_matches(target: &Segment, leaf: bool, node: &Value, root: &Value) -> bool {
    match target {
        Segment::Name(name, _) => node.as_object().is_some_and(|o| o.contains_key(name)),
        Segment::Names(names, _) => node
            .as_object()
            .is_some_and(|o| !leaf || names.iter().all(|name| o.contains_key(name))),
        Segment::Index(_) | Segment::Indexes(_) | Segment::Slice(_) => node.is_array(),
        Segment::Wildcard => true,
        Segment::Filter(expr) => expr.test(node, root),
        Segment::Scan => false,
    }
}

/// The indexes a slice selects, with Python's rules for negative and absent bounds.
fn slice_indices(slice: Slice, len: usize) -> impl Iterator<Item = usize> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let step = slice.step.unwrap_or(1);
    let clamp = |bound: i64, low: i64, high: i64| {
        let bound = if bound < 0 {
            bound.saturating_add(len)
        } else {
            bound
        };
        bound.clamp(low, high)
    };
    let (start, end) = if step > 0 {
        (
            slice.start.map_or(0, |s| clamp(s, 0, len)),
            slice.end.map_or(len, |e| clamp(e, 0, len)),
        )
    } else {
        (
            slice.start.map_or(len - 1, |s| clamp(s, -1, len - 1)),
            slice.end.map_or(-1, |e| clamp(e, -1, len - 1)),
        )
    };
    let mut current = start;
    std::iter::from_fn(move || {
        if step == 0 {
            return None;
        }
        let inside = if step > 0 {
            current < end
        } else {
            current > end
        };
        if !inside {
            return None;
        }
        let index = current;
        current = current.saturating_add(step);
        if current == index {
            // Saturated at the end of the i64 range: stop after this element.
            current = end;
        }
        usize::try_from(index).ok()
    })
}
