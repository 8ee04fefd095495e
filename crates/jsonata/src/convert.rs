//! Conversion between `serde_json::Value` and the engine's values, and AWS's type names.
//!
//! JSONata numbers are IEEE doubles, as in JavaScript. Going back to JSON, an integral
//! number is written without a fraction (`1`, not `1.0`), and every other number as
//! JavaScript's `JSON.stringify` writes it (shortest round trip, `1e-7`, `1e+21`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use jsonata_core::value::{JArray, JValue};
use serde_json::{Map, Number, Value};

use crate::{Error, UNSUPPORTED_RESULT};

/// The type name of a JSON value as Step Functions' error causes spell it:
/// `'array'`, `'null'`, `'number'`, `'string'`, `'boolean'` or `'object'`.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON value as an engine value.
pub(crate) fn to_jvalue(value: &Value) -> JValue {
    match value {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(match n.as_i64() {
            Some(i) => i as f64,
            None => n.as_f64().unwrap_or(f64::NAN),
        }),
        Value::String(s) => JValue::string(s.as_str()),
        Value::Array(items) => JValue::Array(JArray::new(items.iter().map(to_jvalue).collect())),
        Value::Object(map) => JValue::object(
            map.iter()
                .map(|(key, value)| (key.clone(), to_jvalue(value)))
                .collect(),
        ),
    }
}

/// Where the arrays and objects of converted input came from, by the address of their
/// engine value's storage. A result that holds such a value unchanged (a path into the
/// input, a filter of its items) is converted by cloning the original JSON, which is faster
/// than rebuilding it. Addresses are unique while the converted values are alive, which the
/// owner of this map (a `Prepared`) ensures.
#[derive(Default)]
pub(crate) struct Origins<'a>(HashMap<usize, &'a Value, BuildHasherDefault<AddressHasher>>);

/// A hasher for heap addresses: already unique, so one multiply spreads them enough.
#[derive(Default)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(26);
    }
}

impl<'a> Origins<'a> {
    fn get(&self, address: usize) -> Option<&'a Value> {
        self.0.get(&address).copied()
    }
}

/// `to_jvalue`, recording where each non-empty array and object came from, if converting
/// it back would give the same JSON (every number in it is written as JavaScript writes
/// it: `1`, not `1.0`; no digits beyond a double's).
pub(crate) fn to_jvalue_tracked<'a>(value: &'a Value, origins: &mut Origins<'a>) -> JValue {
    tracked(value, origins).0
}

/// The converted value, and whether it converts back to the same JSON.
fn tracked<'a>(value: &'a Value, origins: &mut Origins<'a>) -> (JValue, bool) {
    match value {
        Value::Array(items) if !items.is_empty() => {
            let mut same = true;
            let converted = items
                .iter()
                .map(|item| {
                    let (item, item_same) = tracked(item, origins);
                    same &= item_same;
                    item
                })
                .collect();
            let array = JArray::new(converted);
            if same {
                origins.0.insert(array.as_ptr() as usize, value);
            }
            (JValue::Array(array), same)
        }
        Value::Object(map) if !map.is_empty() => {
            let mut same = true;
            let object = JValue::object(
                map.iter()
                    .map(|(key, item)| {
                        let (item, item_same) = tracked(item, origins);
                        same &= item_same;
                        (key.clone(), item)
                    })
                    .collect(),
            );
            if same && let JValue::Object(rc) = &object {
                origins.0.insert(Rc::as_ptr(rc) as usize, value);
            }
            (object, same)
        }
        Value::Number(n) => {
            let converted = to_jvalue(value);
            let same = match &converted {
                JValue::Number(f) => number_round_trips(n, *f),
                _ => false,
            };
            (converted, same)
        }
        other => (to_jvalue(other), true),
    }
}

/// Whether the JSON number `n`, read as the double `f`, is written back as the same text.
fn number_round_trips(n: &Number, f: f64) -> bool {
    // With `arbitrary_precision`, numbers compare as their text.
    matches!(number(f), Value::Number(written) if written == *n)
}

/// An engine result as JSON: `None` for undefined, an error for a function anywhere in it.
/// Undefined values inside arrays and objects are left out, as `JSON.stringify` does.
/// Results nested deeper than `max_depth` are an error (`D2017`): JSON that deep is more
/// than other tools take (Jackson stops at 1000 levels) and more than recursive code that
/// walks or drops a `serde_json::Value` can take on a small stack.
pub(crate) fn from_jvalue(
    value: &JValue,
    max_depth: usize,
    origins: &Origins<'_>,
) -> Result<Option<Value>, Error> {
    match value {
        JValue::Undefined => Ok(None),
        other => convert_defined(other, max_depth, origins).map(Some),
    }
}

fn convert_defined(
    value: &JValue,
    depth_left: usize,
    origins: &Origins<'_>,
) -> Result<Value, Error> {
    // Unchanged input: clone the JSON it came from.
    let address = match value {
        JValue::Array(items) if !items.is_empty() => Some(items.as_ptr() as usize),
        JValue::Object(map) if !map.is_empty() => Some(Rc::as_ptr(map) as usize),
        _ => None,
    };
    if let Some(original) = address.and_then(|address| origins.get(address)) {
        return Ok(original.clone());
    }
    let nested = matches!(value, JValue::Array(_) | JValue::Object(_));
    if nested && depth_left == 0 {
        return Err(Error::new(
            "D2017",
            "The result is nested too deeply to be a JSON value",
        ));
    }
    let depth_left = depth_left.saturating_sub(1);
    Ok(match value {
        JValue::Null | JValue::Undefined => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                if !item.is_undefined() {
                    out.push(convert_defined(item, depth_left, origins)?);
                }
            }
            Value::Array(out)
        }
        JValue::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, item) in map.iter() {
                if !item.is_undefined() {
                    out.insert(key.clone(), convert_defined(item, depth_left, origins)?);
                }
            }
            Value::Object(out)
        }
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            return Err(Error::new(
                UNSUPPORTED_RESULT,
                "The expression returned a function, which is not a JSON value",
            ));
        }
    })
}

/// A JSONata number as JSON. Non-finite numbers (which JSONata's operators never yield)
/// become `null`, as in `JSON.stringify`.
pub(crate) fn number(n: f64) -> Value {
    if !n.is_finite() {
        return Value::Null;
    }
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        // Exactly representable integers; `-0` prints as `0`, as in JavaScript.
        return Value::Number(Number::from(n as i64));
    }
    // In this range the shortest round-trip digits print the same in Rust's `ryu` (which
    // `Number::from_f64` uses) as in JavaScript: plain decimals, no exponent.
    if (1e-5..1e15).contains(&n.abs())
        && let Some(number) = Number::from_f64(n)
    {
        return Value::Number(number);
    }
    js_number_text(n)
        .parse::<Number>()
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// JavaScript's `String(number)` for a finite number: plain digits for magnitudes in
/// [1e-6, 1e21), exponent form (with an explicit `+`) outside.
fn js_number_text(n: f64) -> String {
    if n == 0.0 {
        return "0".to_owned();
    }
    if (1e-6..1e21).contains(&n.abs()) {
        return format!("{n}");
    }
    let text = format!("{n:e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) if !exponent.starts_with('-') => {
            format!("{mantissa}e+{exponent}")
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        let cases = [
            (1.0, "1"),
            (-0.0, "0"),
            (1.5, "1.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-7, "1e-7"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (9007199254740993.0, "9007199254740992"),
            (13.75, "13.75"),
            (0.00001, "0.00001"),
            (0.000001, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (123456789.125, "123456789.125"),
            (1234567890123456.5, "1234567890123456.5"),
            (-2.5, "-2.5"),
        ];
        for (n, text) in cases {
            assert_eq!(number(n).to_string(), text, "{n}");
        }
    }

    #[test]
    fn type_names_are_aws_spellings() {
        let cases = [
            ("null", "null"),
            ("true", "boolean"),
            ("1.5", "number"),
            ("\"x\"", "string"),
            ("[]", "array"),
            ("{}", "object"),
        ];
        for (json, name) in cases {
            let value: Value = serde_json::from_str(json).unwrap();
            assert_eq!(type_name(&value), name, "{json}");
        }
    }
}
