//! Evaluating a parsed call: argument checking and the functions themselves.
//!
//! Every argument problem fails with `States.Runtime` and the cause
//! `Invalid arguments in States.<Name>`, which is what AWS reports (its documented
//! `States.IntrinsicFailure` is not what executions show). Limits and quirks follow what AWS
//! was observed to do; each is noted where it is implemented.

use base64::Engine as _;
use md5::Md5;
use serde_json::{Map, Number, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::java::{self, JavaRandom};
use crate::parse::{Arg, Node, Piece, Template};
use crate::{Env, Failure, Function};

/// Strings longer than this (in UTF-16 code units, as Java counts) are refused by
/// `Base64Encode`, `Base64Decode` and `Hash`; AWS documents 10,000 characters.
const MAX_STRING_LENGTH: usize = 10_000;

/// `ArrayRange` may produce at most this many items.
const MAX_RANGE_ITEMS: i64 = 1000;

/// Evaluates one call: arity, then the arguments left to right, then the function.
pub(crate) fn eval(node: &Node, env: &mut dyn Env) -> Result<Value, Failure> {
    let function = node.function;
    let (min, max) = function.arity();
    let count = node.args.len();
    if count < min || max.is_some_and(|max| count > max) {
        return Err(invalid_arguments(function));
    }
    let mut values = Vec::with_capacity(count);
    for arg in &node.args {
        values.push(match arg {
            Arg::Literal(value) => value.clone(),
            Arg::String(literal) => Value::String(literal.value.clone()),
            Arg::Path(path) => env.resolve(path)?,
            Arg::Call(inner) => eval(inner, env)?,
        });
    }
    apply(node, values, env).ok_or_else(|| invalid_arguments(function))
}

fn invalid_arguments(function: Function) -> Failure {
    Failure {
        error: "States.Runtime".into(),
        cause: format!("Invalid arguments in {}", function.name()),
    }
}

/// Runs the function on evaluated arguments; `None` means invalid arguments.
fn apply(node: &Node, values: Vec<Value>, env: &mut dyn Env) -> Option<Value> {
    match node.function {
        Function::Format => format(node, &values),
        Function::StringToJson => string_to_json(&values[0]),
        Function::JsonToString => Some(Value::String(java::to_json_text(&values[0]))),
        Function::Array => Some(Value::Array(values)),
        Function::ArrayPartition => array_partition(&values[0], &values[1]),
        Function::ArrayContains => array_contains(&values[0], &values[1]),
        Function::ArrayRange => array_range(&values[0], &values[1], &values[2]),
        Function::ArrayGetItem => array_get_item(&values[0], &values[1]),
        Function::ArrayLength => Some(Value::from(values[0].as_array()?.len())),
        Function::ArrayUnique => array_unique(&values[0]),
        Function::Base64Encode => base64_encode(&values[0]),
        Function::Base64Decode => base64_decode(&values[0]),
        Function::Hash => hash(&values[0], &values[1]),
        Function::JsonMerge => json_merge(&values[0], &values[1], &values[2]),
        Function::MathRandom => math_random(&values, env),
        Function::MathAdd => math_add(&values[0], &values[1]),
        Function::StringSplit => string_split(&values[0], &values[1]),
        Function::Uuid => Some(Value::String(uuid(env))),
    }
}

/// `States.Format`: the template's `{}` replaced by the other arguments printed as Java
/// prints them. A literal template honours `\{`/`\}` escapes; a template from a path treats
/// every brace as syntax. Stray braces and a placeholder count that differs from the
/// argument count are invalid (AWS fails such calls at run time).
fn format(node: &Node, values: &[Value]) -> Option<Value> {
    let template = match &node.args[0] {
        Arg::String(literal) => literal.template.clone(),
        _ => Template::from_runtime(values[0].as_str()?),
    };
    let replacements = &values[1..];
    if template.placeholders()? != replacements.len() {
        return None;
    }
    let Template::Pieces(pieces) = template else {
        return None;
    };
    let mut out = String::new();
    let mut next = replacements.iter();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&text),
            Piece::Placeholder => out.push_str(&java::to_java_string(next.next()?)),
        }
    }
    Some(Value::String(out))
}

/// `States.StringToJson`: blank text is `null` (as Jackson reads it); integers are
/// normalised the way Jackson reads them (`-0` is `0`).
fn string_to_json(value: &Value) -> Option<Value> {
    let text = value.as_str()?.trim_matches(|c: char| c <= ' ');
    if text.is_empty() {
        return Some(Value::Null);
    }
    let parsed: Value = serde_json::from_str(text).ok()?;
    Some(normalize_integers(parsed))
}

fn normalize_integers(value: Value) -> Value {
    match value {
        Value::Number(n) if java::is_integer(&n) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(normalize_integers).collect()),
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(k, v)| (k, normalize_integers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `States.ArrayPartition`: chunks of `size` items, the last one shorter. The size is
/// truncated to an integer (AWS partitions by 2 for 2.6) and must then be positive.
fn array_partition(array: &Value, size: &Value) -> Option<Value> {
    let items = array.as_array()?;
    let size = java::truncate_to_int(size)?;
    if size <= 0 {
        return None;
    }
    let size = usize::try_from(size).ok()?;
    Some(Value::Array(
        items
            .chunks(size)
            .map(|chunk| Value::Array(chunk.to_vec()))
            .collect(),
    ))
}

/// `States.ArrayContains`. AWS compares the printed forms of the Java objects: it finds the
/// number 9007199254740991 in `["9007199254740991"]` and `true` in `["true"]`, and does not
/// find `{"b":2,"a":1}` in `[{"a":1,"b":2}]`, so this does the same.
fn array_contains(array: &Value, target: &Value) -> Option<Value> {
    let items = array.as_array()?;
    let wanted = java::to_java_string(target);
    Some(Value::Bool(
        items
            .iter()
            .any(|item| java::to_java_string(item) == wanted),
    ))
}

/// `States.ArrayRange(start, end, step)`: `end` is included when a step lands on it. The
/// arguments are truncated to integers (AWS treats 1.4, 5.6, 2.2 as 1, 5, 2); the step must
/// not be zero and the result may hold at most 1000 items.
fn array_range(start: &Value, end: &Value, step: &Value) -> Option<Value> {
    let start = i64::from(java::truncate_to_int(start)?);
    let end = i64::from(java::truncate_to_int(end)?);
    let step = i64::from(java::truncate_to_int(step)?);
    if step == 0 {
        return None;
    }
    let count = if (step > 0 && end < start) || (step < 0 && end > start) {
        0
    } else {
        (end - start) / step + 1
    };
    if count > MAX_RANGE_ITEMS {
        return None;
    }
    Some(Value::Array(
        (0..count).map(|i| Value::from(start + i * step)).collect(),
    ))
}

/// `States.ArrayGetItem`: the index is truncated to an integer (AWS returns item 1 for
/// index 1.2). A negative index or one past the end is invalid, except that AWS returns
/// `null` for any index into an empty array, which is reproduced here.
fn array_get_item(array: &Value, index: &Value) -> Option<Value> {
    let items = array.as_array()?;
    let index = java::truncate_to_int(index)?;
    if index < 0 {
        return None;
    }
    if items.is_empty() {
        return Some(Value::Null);
    }
    items.get(usize::try_from(index).ok()?).cloned()
}

/// `States.ArrayUnique`: the distinct values (Java `equals`: `1` and `1.0` differ, objects
/// are equal regardless of key order) in the order AWS's `HashSet` returns them, which is
/// not the input order (see [`java::hash_set_order`]).
fn array_unique(array: &Value) -> Option<Value> {
    Some(Value::Array(java::hash_set_order(array.as_array()?)))
}

fn java_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `States.Base64Encode`: standard alphabet with padding over the UTF-8 bytes.
fn base64_encode(value: &Value) -> Option<Value> {
    let text = value.as_str()?;
    if java_length(text) > MAX_STRING_LENGTH {
        return None;
    }
    Some(Value::String(
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
    ))
}

/// `States.Base64Decode`. AWS's decoder is lenient: it skips characters outside the
/// alphabet (`!!!invalid!!!` decodes), stops at the first `=` (`ab==cd` decodes), accepts
/// missing padding (`abc`) and tolerates surrounding spaces, so this never fails on the
/// content. Bytes that are not UTF-8 become U+FFFD, as Java's `new String(bytes, UTF_8)`.
fn base64_decode(value: &Value) -> Option<Value> {
    let text = value.as_str()?;
    if java_length(text) > MAX_STRING_LENGTH {
        return None;
    }
    let bytes = lenient_base64_decode(text);
    Some(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

fn lenient_base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut bits: u32 = 0;
    let mut count = 0;
    for byte in text.bytes() {
        let sextet = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        bits = (bits << 6) | u32::from(sextet);
        count += 1;
        if count == 4 {
            out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]);
            bits = 0;
            count = 0;
        }
    }
    // Leftover characters: two make one byte, three make two; a single one is dropped.
    match count {
        2 => out.push((bits >> 4) as u8),
        3 => out.extend_from_slice(&[(bits >> 10) as u8, (bits >> 2) as u8]),
        _ => {}
    }
    out
}

/// `States.Hash(data, algorithm)`: lowercase hex digest of the UTF-8 bytes. AWS hashes
/// non-string data by printing it first; the algorithm must be spelled exactly as
/// documented.
fn hash(data: &Value, algorithm: &Value) -> Option<Value> {
    let text = java::to_java_string(data);
    if java_length(&text) > MAX_STRING_LENGTH {
        return None;
    }
    let bytes = text.as_bytes();
    let digest: Vec<u8> = match algorithm.as_str()? {
        "MD5" => Md5::digest(bytes).to_vec(),
        "SHA-1" => Sha1::digest(bytes).to_vec(),
        "SHA-256" => Sha256::digest(bytes).to_vec(),
        "SHA-384" => Sha384::digest(bytes).to_vec(),
        "SHA-512" => Sha512::digest(bytes).to_vec(),
        _ => return None,
    };
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    Some(Value::String(hex))
}

/// `States.JsonMerge(a, b, false)`: a shallow merge where `b`'s members win. AWS supports
/// only the shallow mode and fails when the flag asks for a deep merge; it reads the flag
/// leniently (like Jackson's `asBoolean`, so the string `"false"` is accepted as shallow),
/// and only `true`, `"true"` and non-zero integers ask for a deep merge.
fn json_merge(first: &Value, second: &Value, deep: &Value) -> Option<Value> {
    let (Value::Object(first), Value::Object(second)) = (first, second) else {
        return None;
    };
    let wants_deep = match deep {
        Value::Bool(b) => *b,
        Value::String(s) => s.trim() == "true",
        Value::Number(n) => java::is_integer(n) && n.as_f64() != Some(0.0),
        _ => false,
    };
    if wants_deep {
        return None;
    }
    let mut merged: Map<String, Value> = first.clone();
    for (key, value) in second {
        merged.insert(key.clone(), value.clone());
    }
    Some(Value::Object(merged))
}

/// `States.MathRandom(start, end[, seed])`: an integer in `[start, end)`. The bounds are
/// truncated to integers (AWS rejects 1.4, 1.6 because both become 1) and `start` must be
/// below `end`. With a seed the result is `start + new java.util.Random(seed).nextInt(end -
/// start)`, the same for the same seed; without one it comes from [`Env::random_u64`].
fn math_random(values: &[Value], env: &mut dyn Env) -> Option<Value> {
    let start = java::truncate_to_int(&values[0])?;
    let end = java::truncate_to_int(&values[1])?;
    if start >= end {
        return None;
    }
    let range = i64::from(end) - i64::from(start);
    let value = match values.get(2) {
        Some(seed) => {
            let mut random = JavaRandom::new(java::truncate_to_long(seed)?);
            match i32::try_from(range) {
                Ok(bound) => i64::from(start) + i64::from(random.next_int_bounded(bound)),
                // A range wider than an int: Java draws until the value falls inside, which
                // takes fewer than two draws on average here.
                Err(_) => loop {
                    let candidate = random.next_int();
                    if (start..end).contains(&candidate) {
                        break i64::from(candidate);
                    }
                },
            }
        }
        None => {
            let offset = (u128::from(env.random_u64()) * range as u128) >> 64;
            i64::from(start) + offset as i64
        }
    };
    Some(Value::from(value))
}

/// `States.MathAdd`: both arguments rounded like `Math.round` (AWS gives -2 for -1.51 + 0 and
/// 4 for 1.5 + 1.51); arguments and sum must be within the `int` range. The sum is an
/// integer.
fn math_add(a: &Value, b: &Value) -> Option<Value> {
    let int_range = i64::from(i32::MIN)..=i64::from(i32::MAX);
    let a = java::math_round(java::as_double(a)?).filter(|v| int_range.contains(v))?;
    let b = java::math_round(java::as_double(b)?).filter(|v| int_range.contains(v))?;
    // AWS fails rather than wrapping when the sum leaves the int range.
    let sum = Some(a + b).filter(|v| int_range.contains(v))?;
    Some(Value::Number(Number::from(sum)))
}

/// `States.StringSplit(text, delimiters)`: like Java's `StringTokenizer`, every character of
/// the second argument is a delimiter and empty pieces are dropped (AWS splits `", , ,"` on
/// `","` into `[" ", " "]`).
fn string_split(text: &Value, delimiters: &Value) -> Option<Value> {
    let text = text.as_str()?;
    let delimiters = delimiters.as_str()?;
    Some(Value::Array(
        text.split(|c| delimiters.contains(c))
            .filter(|piece| !piece.is_empty())
            .map(|piece| Value::String(piece.to_owned()))
            .collect(),
    ))
}

/// `States.UUID()`: a version 4 UUID built from two random numbers.
fn uuid(env: &mut dyn Env) -> String {
    let high = (env.random_u64() & !0xF000) | 0x4000;
    let low = (env.random_u64() & !(0b11 << 62)) | (0b10 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xFFFF,
        high & 0xFFFF,
        low >> 48,
        low & 0xFFFF_FFFF_FFFF
    )
}
