//! Java behaviour that shows through AWS's intrinsic functions: how values print
//! (`toString`, `Double.toString`, Jackson's JSON), `Math.round`, `(int)` truncation,
//! `Map`/`List` equality and `java.util.Random`.
//!
//! AWS evaluates intrinsics on Jackson trees converted to Java objects, so for example
//! `States.Format('{}', $.o)` with `{"a": 1, "b": []}` gives `{a=1, b=[]}` (recorded in the
//! conformance cases), and a number written `1.0` or `1e2` is a `Double` that prints as `1.0`
//! or `100.0`.

use std::collections::HashMap;

use serde_json::{Number, Value};

/// True when the number was written as an integer (Jackson makes an `IntNode`/`LongNode`/
/// `BigIntegerNode` of it rather than a `DoubleNode`).
pub(crate) fn is_integer(n: &Number) -> bool {
    n.is_i64() || n.is_u64() || !n.to_string().contains(['.', 'e', 'E'])
}

/// A number as Java prints it: integers in plain digits, floats like `Double.toString`.
pub(crate) fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let text = n.to_string();
    if is_integer(n) {
        // A big integer: Jackson keeps every digit. Only `-0...` could need normalising, and
        // that fits in an i64, so the text is already canonical.
        return text;
    }
    double_to_string(n.as_f64().unwrap_or(f64::NAN))
}

/// `Double.toString`: shortest round-trip digits; plain notation for magnitudes in
/// [10^-3, 10^7), otherwise `d.dddE±n`; always at least one fractional digit.
pub(crate) fn double_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let magnitude = x.abs();
    if (1e-3..1e7).contains(&magnitude) {
        let mut text = format!("{x}");
        if !text.contains('.') {
            text.push_str(".0");
        }
        return text;
    }
    // Rust's `{:e}` gives the same shortest digits as `1.2345e-5`.
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

/// `String.valueOf` of the Java object AWS converts a value to: strings unquoted, lists as
/// `[a, b]`, maps as `{k=v, k2=v2}`.
pub(crate) fn to_java_string(value: &Value) -> String {
    let mut out = String::new();
    write_java(value, &mut out);
    out
}

fn write_java(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                write_java(item, out);
            }
            out.push('}');
        }
    }
}

/// Compact JSON as Jackson writes it (numbers as in [`number_text`]).
pub(crate) fn to_json_text(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Bool(_) => out.push_str(&to_java_string(value)),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// `equals` between the Java objects: `Integer 1` differs from `Double 1.0`, maps compare
/// without regard to key order.
pub(crate) fn java_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => {
            is_integer(x) == is_integer(y) && number_text(x) == number_text(y)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| java_equals(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, p)| y.get(key).is_some_and(|q| java_equals(p, q)))
        }
        _ => false,
    }
}

/// The number as a double (`JsonNode.asDouble`), if it is a number.
pub(crate) fn as_double(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// `(int)` of the number (truncation toward zero), if it is a number within `int` range.
pub(crate) fn truncate_to_int(value: &Value) -> Option<i32> {
    let Value::Number(n) = value else { return None };
    if let Some(i) = n.as_i64() {
        return i32::try_from(i).ok();
    }
    let x = n.as_f64()?.trunc();
    (x >= f64::from(i32::MIN) && x <= f64::from(i32::MAX)).then_some(x as i32)
}

/// The doubles that convert to a `long` without saturating: [-2^63, 2^63), both bounds
/// exactly representable.
const LONG_RANGE: std::ops::Range<f64> = -TWO_POW_63..TWO_POW_63;
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// `(long)` of the number (truncation toward zero), if it is a number within `long` range.
pub(crate) fn truncate_to_long(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else { return None };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let x = n.as_f64()?.trunc();
    LONG_RANGE.contains(&x).then_some(x as i64)
}

/// `Math.round(double)`: the closest integer, halves rounded up (toward positive infinity).
pub(crate) fn math_round(x: f64) -> Option<i64> {
    if !x.is_finite() {
        return None;
    }
    let floor = x.floor();
    // `x - floor` is exact for every double, so this has no double-rounding problem.
    let rounded = if x - floor >= 0.5 { floor + 1.0 } else { floor };
    LONG_RANGE.contains(&rounded).then_some(rounded as i64)
}

/// `java.util.Random`: the 48-bit linear congruential generator, bit for bit.
pub(crate) struct JavaRandom {
    seed: i64,
}

impl JavaRandom {
    const MULTIPLIER: i64 = 0x5_DEEC_E66D;
    const MASK: i64 = (1 << 48) - 1;

    pub(crate) fn new(seed: i64) -> JavaRandom {
        JavaRandom {
            seed: (seed ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// `nextInt()`.
    pub(crate) fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextInt(bound)` for a positive bound.
    pub(crate) fn next_int_bounded(&mut self, bound: i32) -> i32 {
        debug_assert!(bound > 0);
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    /// `nextDouble()`.
    #[cfg(test)]
    pub(crate) fn next_double(&mut self) -> f64 {
        let high = i64::from(self.next(26)) << 27;
        let low = i64::from(self.next(27));
        (high + low) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// `hashCode()` of the Java object AWS converts a value to: `Integer`/`Long`/`BigInteger`
/// for integers (the smallest that fits), `Double` for other numbers, `String`, `Boolean`,
/// `ArrayList` and `LinkedHashMap`; `null` hashes to 0 as `HashMap` does.
pub(crate) fn java_hash_code(value: &Value) -> i32 {
    match value {
        Value::Null => 0,
        Value::Bool(true) => 1231,
        Value::Bool(false) => 1237,
        Value::String(s) => string_hash_code(s),
        Value::Number(n) => number_hash_code(n),
        Value::Array(items) => items.iter().fold(1i32, |h, item| {
            h.wrapping_mul(31).wrapping_add(java_hash_code(item))
        }),
        Value::Object(members) => members.iter().fold(0i32, |h, (key, item)| {
            h.wrapping_add(string_hash_code(key) ^ java_hash_code(item))
        }),
    }
}

fn string_hash_code(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

fn number_hash_code(n: &Number) -> i32 {
    if let Some(i) = n.as_i64() {
        return match i32::try_from(i) {
            Ok(int) => int,
            Err(_) => (i ^ ((i as u64) >> 32) as i64) as i32,
        };
    }
    if is_integer(n) {
        return big_integer_hash_code(&n.to_string());
    }
    let bits = n.as_f64().unwrap_or(f64::NAN).to_bits();
    (bits ^ (bits >> 32)) as i32
}

/// `BigInteger.hashCode()`: over the magnitude's 32-bit words, most significant first,
/// times the sign.
fn big_integer_hash_code(text: &str) -> i32 {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // Little-endian 32-bit words of the magnitude.
    let mut words: Vec<u32> = Vec::new();
    for digit in digits.bytes().filter(u8::is_ascii_digit) {
        let mut carry = u64::from(digit - b'0');
        for word in &mut words {
            let product = u64::from(*word) * 10 + carry;
            *word = product as u32;
            carry = product >> 32;
        }
        if carry > 0 {
            words.push(carry as u32);
        }
    }
    let hash = words.iter().rev().fold(0i32, |h, &word| {
        h.wrapping_mul(31).wrapping_add(word as i32)
    });
    if negative { hash.wrapping_neg() } else { hash }
}

/// The distinct values in the order a `java.util.HashSet` built from the whole list
/// (`new HashSet<>(list)`) iterates them: by bucket, then by insertion within a bucket.
/// AWS's `States.ArrayUnique` returns `[false, true]` for `[true, false, true, false]` and
/// `[[2, 1], [1, 2]]` for `[[1, 2], [1, 2], [2, 1]]`, which is this order. (Java turns a
/// crowded bucket into a tree past eight entries; that rarely matters and is not modelled.)
pub(crate) fn hash_set_order(items: &[Value]) -> Vec<Value> {
    // HashSet(Collection c) sizes its table for c.size() / 0.75 + 1 entries, at least 16,
    // rounded up to a power of two, so it never resizes while adding c.
    let wanted = ((items.len() as f32 / 0.75) as usize + 1).max(16);
    let capacity = wanted
        .checked_next_power_of_two()
        .unwrap_or(1 << 30)
        .min(1 << 30);
    let mut distinct: Vec<(usize, usize, &Value)> = Vec::new();
    // Values that are `equals` have the same hash code, so only same-hash values need the
    // full comparison; this keeps large arrays linear.
    let mut by_hash: HashMap<i32, Vec<usize>> = HashMap::new();
    for item in items {
        let hash = java_hash_code(item);
        let same_hash = by_hash.entry(hash).or_default();
        if same_hash.iter().any(|&i| java_equals(distinct[i].2, item)) {
            continue;
        }
        same_hash.push(distinct.len());
        let h = hash as u32;
        let spread = h ^ (h >> 16);
        let bucket = spread as usize & (capacity - 1);
        distinct.push((bucket, distinct.len(), item));
    }
    distinct.sort_by_key(|&(bucket, order, _)| (bucket, order));
    distinct
        .into_iter()
        .map(|(_, _, item)| item.clone())
        .collect()
}
