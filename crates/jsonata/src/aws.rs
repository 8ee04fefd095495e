//! The functions Step Functions adds to JSONata, and the ones it changes or removes.
//!
//! Added (AWS developer guide, "JSONata functions provided by Step Functions"):
//! - `$partition(array, size)`: the array cut into chunks of `size` (the last may be
//!   shorter), like `States.ArrayPartition`.
//! - `$range(start, end, step)`: the numbers from `start` to `end` inclusive by `step`,
//!   like `States.ArrayRange`; a one-number result is that number (a JSONata sequence).
//! - `$hash(data, algorithm)`: the lowercase hex digest of a string with `MD5`, `SHA-1`,
//!   `SHA-256`, `SHA-384` or `SHA-512`, like `States.Hash`.
//! - `$random([seed])`: a number in [0, 1); with a seed, always the same number for the
//!   same seed. (The sequence is Baton's: AWS does not document its generator.)
//! - `$uuid()`: a random version 4 UUID.
//! - `$parse(text)`: the JSON value `text` holds (the replacement for `$eval`).
//!
//! Removed: `$eval` (calling it fails as calling any non-function does, `T1006`).
//! Made pure: `$random()`, `$uuid()` and `$shuffle()` draw from the caller's entropy, and
//! `$now()`/`$millis()` read the caller's instant when one is given.
//!
//! Argument errors use JSONata's own code `T0410` (an argument that does not match the
//! function's signature, including a missing or extra one). Values out of range use codes
//! AWS does not document, chosen next to JSONata's own function errors: `D3030` (not an
//! integer), `D3031` (`$partition` size below 1), `D3032` (`$range` step 0), `D3033`
//! (unknown `$hash` algorithm), `D3034` (`$parse` of text that is not JSON); a `$range` of
//! more than 1e7 numbers is `D2014`, as for the range operator.

use std::cell::Cell;
use std::rc::Rc;

use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::{JArray, JValue};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::convert;

/// Which host functions an expression's text can reach. A name that never appears in the
/// text cannot be called (there is no `$eval`), so only the ones that appear are registered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Uses {
    partition: bool,
    range: bool,
    hash: bool,
    random: bool,
    uuid: bool,
    parse: bool,
    eval: bool,
    shuffle: bool,
    now: bool,
    millis: bool,
}

impl Uses {
    pub(crate) fn scan(text: &str) -> Uses {
        Uses {
            partition: text.contains("partition"),
            range: text.contains("range"),
            hash: text.contains("hash"),
            random: text.contains("random"),
            uuid: text.contains("uuid"),
            parse: text.contains("parse"),
            eval: text.contains("eval"),
            shuffle: text.contains("shuffle"),
            now: text.contains("now"),
            millis: text.contains("millis"),
        }
    }

    fn entropy(self) -> bool {
        self.random || self.uuid || self.shuffle
    }
}

type HostResult = Result<JValue, EvaluatorError>;

/// Registers the functions `uses` names on `evaluator`. Draws one seed from `random` if an
/// entropy-using function can be called.
pub(crate) fn register(
    evaluator: &mut Evaluator,
    uses: Uses,
    now_millis: Option<i64>,
    random: &mut dyn FnMut() -> u64,
) -> Result<(), EvaluatorError> {
    if uses.partition {
        evaluator.register_fn("partition", |args: &[JValue]| partition(args))?;
    }
    if uses.range {
        evaluator.register_fn("range", |args: &[JValue]| range(args))?;
    }
    if uses.hash {
        evaluator.register_fn("hash", |args: &[JValue]| hash(args))?;
    }
    if uses.parse {
        evaluator.register_fn("parse", |args: &[JValue]| parse(args))?;
    }
    if uses.eval {
        evaluator.register_fn_override("eval", |_: &[JValue]| -> HostResult {
            Err(EvaluatorError::TypeError(
                "T1006: Attempted to invoke a non-function".into(),
            ))
        })?;
    }
    if uses.entropy() {
        let rng = Rng(Rc::new(Cell::new(random())));
        if uses.random {
            let rng = rng.clone();
            evaluator
                .register_fn_override("random", move |args: &[JValue]| random_fn(&rng, args))?;
        }
        if uses.uuid {
            let rng = rng.clone();
            evaluator.register_fn("uuid", move |args: &[JValue]| uuid(&rng, args))?;
        }
        if uses.shuffle {
            evaluator
                .register_fn_override("shuffle", move |args: &[JValue]| shuffle(&rng, args))?;
        }
    }
    if let Some(now) = now_millis {
        if uses.now {
            evaluator.register_fn_override("now", move |args: &[JValue]| now_fn(now, args))?;
        }
        if uses.millis {
            evaluator.register_fn_override("millis", move |args: &[JValue]| {
                arity("millis", args, 0, 0)?;
                Ok(JValue::Number(now as f64))
            })?;
        }
    }
    Ok(())
}

/// SplitMix64 over one seed from the caller: fast, and replayable from the seed.
#[derive(Clone)]
struct Rng(Rc<Cell<u64>>);

impl Rng {
    fn next(&self) -> u64 {
        let state = self.0.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.0.set(state);
        mix(state)
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A double in [0, 1) from 53 random bits.
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

fn type_error(function: &str, index: usize) -> EvaluatorError {
    EvaluatorError::TypeError(format!(
        "T0410: Argument {index} of function \"{function}\" does not match function signature"
    ))
}

fn arity(function: &str, args: &[JValue], min: usize, max: usize) -> Result<(), EvaluatorError> {
    if args.len() > max {
        return Err(EvaluatorError::TypeError(format!(
            "T0410: Argument {} of function \"{function}\" does not match function signature",
            max + 1
        )));
    }
    if args.len() < min {
        // A missing argument fails the function's signature, as in jsonata-js.
        return Err(type_error(function, args.len() + 1));
    }
    Ok(())
}

fn value_error(code: &str, message: String) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!("{code}: {message}"))
}

/// An integral number argument.
fn integer(function: &str, args: &[JValue], index: usize) -> Result<f64, EvaluatorError> {
    match args.get(index) {
        Some(JValue::Number(n)) if n.fract() == 0.0 && n.is_finite() => Ok(*n),
        Some(JValue::Number(_)) => Err(value_error(
            "D3030",
            format!(
                "Argument {} of function \"{function}\" must be an integer",
                index + 1
            ),
        )),
        _ => Err(type_error(function, index + 1)),
    }
}

fn partition(args: &[JValue]) -> HostResult {
    arity("partition", args, 2, 2)?;
    let items: Vec<JValue> = match &args[0] {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::Array(items) => items.iter().cloned().collect(),
        // A single value is a one-item array, as for any JSONata array parameter.
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            return Err(type_error("partition", 1));
        }
        other => vec![other.clone()],
    };
    let size = integer("partition", args, 1)?;
    if size < 1.0 {
        return Err(value_error(
            "D3031",
            "The chunk size of function \"partition\" must be a positive integer".into(),
        ));
    }
    let size = size.min(items.len().max(1) as f64) as usize;
    let chunks = items
        .chunks(size)
        .map(|chunk| JValue::cons(chunk.to_vec()))
        .collect();
    Ok(JValue::cons(chunks))
}

fn range(args: &[JValue]) -> HostResult {
    arity("range", args, 3, 3)?;
    let start = integer("range", args, 0)?;
    let end = integer("range", args, 1)?;
    let step = integer("range", args, 2)?;
    if step == 0.0 {
        return Err(value_error(
            "D3032",
            "The step of function \"range\" must not be zero".into(),
        ));
    }
    let count = ((end - start) / step).floor() + 1.0;
    if count > 10_000_000.0 {
        return Err(value_error(
            "D2014",
            format!(
                "The size of the sequence allocated by the range operator must not exceed 1e7.  Attempted to allocate {count}."
            ),
        ));
    }
    let count = count.max(0.0) as usize;
    let items = (0..count)
        .map(|i| JValue::Number(start + step * i as f64))
        .collect();
    Ok(JValue::sequence(items))
}

fn hash(args: &[JValue]) -> HostResult {
    arity("hash", args, 2, 2)?;
    let data = match &args[0] {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(type_error("hash", 1)),
    };
    let JValue::String(algorithm) = &args[1] else {
        return Err(type_error("hash", 2));
    };
    let bytes = data.as_bytes();
    let digest = match &**algorithm {
        "MD5" => hex(&Md5::digest(bytes)),
        "SHA-1" => hex(&Sha1::digest(bytes)),
        "SHA-256" => hex(&Sha256::digest(bytes)),
        "SHA-384" => hex(&Sha384::digest(bytes)),
        "SHA-512" => hex(&Sha512::digest(bytes)),
        other => {
            return Err(value_error(
                "D3033",
                format!(
                    "Unsupported hash algorithm \"{other}\": use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
                ),
            ));
        }
    };
    Ok(JValue::string(digest))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 15)] as char);
    }
    out
}

fn parse(args: &[JValue]) -> HostResult {
    arity("parse", args, 1, 1)?;
    let text = match &args[0] {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(type_error("parse", 1)),
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(value) => Ok(convert::to_jvalue(&value)),
        Err(e) => Err(value_error(
            "D3034",
            format!("Function \"parse\" could not parse the text as JSON: {e}"),
        )),
    }
}

fn random_fn(rng: &Rng, args: &[JValue]) -> HostResult {
    arity("random", args, 0, 1)?;
    match args.first() {
        None | Some(JValue::Undefined) => Ok(JValue::Number(unit(rng.next()))),
        Some(JValue::Number(seed)) => {
            // The same seed always gives the same number, whatever else was drawn.
            let seed = if *seed == 0.0 { 0 } else { seed.to_bits() };
            Ok(JValue::Number(unit(mix(
                seed.wrapping_add(0x9E37_79B9_7F4A_7C15)
            ))))
        }
        Some(_) => Err(type_error("random", 1)),
    }
}

fn uuid(rng: &Rng, args: &[JValue]) -> HostResult {
    arity("uuid", args, 0, 0)?;
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex(&bytes);
    Ok(JValue::string(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )))
}

fn shuffle(rng: &Rng, args: &[JValue]) -> HostResult {
    arity("shuffle", args, 1, 1)?;
    let mut items: Vec<JValue> = match &args[0] {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::Array(items) => items.iter().cloned().collect(),
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            return Err(type_error("shuffle", 1));
        }
        other => vec![other.clone()],
    };
    // Fisher-Yates, as jsonata-js's $shuffle.
    for i in (1..items.len()).rev() {
        let j = (unit(rng.next()) * (i + 1) as f64) as usize;
        items.swap(i, j.min(i));
    }
    Ok(JValue::Array(JArray::new(items)))
}

fn now_fn(now: i64, args: &[JValue]) -> HostResult {
    arity("now", args, 0, 2)?;
    let text = |index: usize| match args.get(index) {
        None | Some(JValue::Undefined) => Ok(None),
        Some(JValue::String(s)) => Ok(Some(s.to_string())),
        Some(_) => Err(type_error("now", index + 1)),
    };
    let (picture, timezone) = (text(0)?, text(1)?);
    jsonata_core::from_millis(now, picture.as_deref(), timezone.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_formats_the_callers_instant() {
        let text = now_fn(1_795_237_541_006, &[]).unwrap();
        assert_eq!(text.as_str(), Some("2026-11-21T05:05:41.006Z"));
    }
}
