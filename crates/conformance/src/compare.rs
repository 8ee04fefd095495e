//! Compares a run with what AWS recorded, exactly as the shared `run.py` does.
//!
//! Outputs are compared as JSON values (key order ignored, `1 == 1.0`, `true != 1`); error and
//! cause strings exactly; both modulo the case's placeholders (values LocalStack replaced when
//! it saved AWS's responses, matched by a regular expression or accepted whatever they are).
//! Event types are compared in order (`strict`) or as a multiset; with `strict_events` every
//! recorded history event's details are compared too, with placeholder tokens found in the
//! recorded events themselves.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// An object member.
    Name(String),
    /// An array element.
    Index(usize),
}

/// How a placeholder position is matched.
#[derive(Debug, Clone)]
pub struct Placeholder {
    /// The value as LocalStack stored it.
    pub recorded: Value,
    /// `None` accepts anything; otherwise the actual value must be a string matching in full.
    pub pattern: Option<Regex>,
}

/// Placeholders by their path (first key: `output`, `error`, `cause` or an event label).
pub type Placeholders = HashMap<Vec<Key>, Placeholder>;

impl Placeholder {
    /// Reads a `placeholders` entry of a case (`recorded` plus `any: true` or `pattern`).
    pub fn from_json(entry: &Value) -> Result<Placeholder, String> {
        let recorded = entry.get("recorded").cloned().unwrap_or(Value::Null);
        if entry.get("any") == Some(&Value::Bool(true)) {
            return Ok(Placeholder {
                recorded,
                pattern: None,
            });
        }
        let pattern = entry
            .get("pattern")
            .and_then(Value::as_str)
            .ok_or("placeholder without `any` or `pattern`")?;
        Ok(Placeholder {
            recorded,
            pattern: Some(full_match(pattern)?),
        })
    }

    fn any(recorded: &str) -> Placeholder {
        Placeholder {
            recorded: Value::String(recorded.to_owned()),
            pattern: None,
        }
    }
}

/// Compiles `pattern` to match a whole string, `.` matching newlines too (Python's
/// `re.fullmatch(pattern, s, re.S)`).
fn full_match(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!(r"\A(?s:{pattern})\z")).map_err(|e| format!("bad pattern {pattern:?}: {e}"))
}

/// The case's `placeholders`, by path.
pub fn case_placeholders(entries: &[Value]) -> Result<Placeholders, String> {
    let mut out = Placeholders::new();
    for entry in entries {
        let keys = entry
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("placeholder without keys")?
            .iter()
            .map(|k| match k {
                Value::String(s) => Ok(Key::Name(s.clone())),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(Key::Index)
                    .ok_or_else(|| format!("bad placeholder key {n}")),
                other => Err(format!("bad placeholder key {other}")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.insert(keys, Placeholder::from_json(entry)?);
    }
    Ok(out)
}

/// Appends one human-readable difference to `diffs` for each mismatch between the expected
/// value `exp` and the actual `act`; `keys[0]` names what is compared.
pub fn compare(exp: &Value, act: &Value, keys: &[Key], ph: &Placeholders, diffs: &mut Vec<String>) {
    let label = match keys.first() {
        Some(Key::Name(name)) => name.as_str(),
        _ => "",
    };
    let here = || where_of(keys);
    if let Some(p) = ph.get(keys) {
        if let Some(pattern) = &p.pattern {
            let ok = matches!(act, Value::String(s) if pattern.is_match(s));
            if !ok {
                diffs.push(format!(
                    "{label} {}: expected like {}, got {}",
                    here(),
                    short(&p.recorded),
                    short(act)
                ));
            }
        }
        return;
    }
    match exp {
        Value::Object(exp) => {
            let Value::Object(act) = act else {
                diffs.push(format!(
                    "{label} {}: expected object, got {}",
                    here(),
                    short(act)
                ));
                return;
            };
            for (k, e) in exp {
                match act.get(k) {
                    None => diffs.push(format!("{label} {}: missing key {k:?}", here())),
                    Some(a) => {
                        let mut sub = keys.to_vec();
                        sub.push(Key::Name(k.clone()));
                        compare(e, a, &sub, ph, diffs);
                    }
                }
            }
            for k in act.keys() {
                if !exp.contains_key(k) {
                    diffs.push(format!("{label} {}: unexpected key {k:?}", here()));
                }
            }
        }
        Value::Array(exp) => {
            let Value::Array(act) = act else {
                diffs.push(format!(
                    "{label} {}: expected array, got {}",
                    here(),
                    short(act)
                ));
                return;
            };
            if exp.len() != act.len() {
                diffs.push(format!(
                    "{label} {}: expected {} items, got {}",
                    here(),
                    exp.len(),
                    act.len()
                ));
                return;
            }
            for (i, (e, a)) in exp.iter().zip(act).enumerate() {
                let mut sub = keys.to_vec();
                sub.push(Key::Index(i));
                compare(e, a, &sub, ph, diffs);
            }
        }
        _ => {
            if !same_scalar(exp, act) {
                diffs.push(format!(
                    "{label} {}: expected {}, got {}",
                    here(),
                    short(exp),
                    short(act)
                ));
            }
        }
    }
}

/// `$.a[0].b` for the keys after the first.
fn where_of(keys: &[Key]) -> String {
    let mut out = String::from("$");
    for key in keys.iter().skip(1) {
        match key {
            Key::Name(name) => {
                out.push('.');
                out.push_str(name);
            }
            Key::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// JSON scalar equality as Python's: numbers by value, booleans only equal booleans.
pub fn same_scalar(exp: &Value, act: &Value) -> bool {
    match (exp, act) {
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        _ => exp == act,
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    let int = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(a), Some(b)) => a == b,
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => a.to_string() == b.to_string(),
        },
    }
}

/// A value shortened for a message (120 characters at most).
pub fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    truncate(&text, 120)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 3).collect();
    out.push_str("...");
    out
}

/// Parses JSON text, keeping the text as a string when it is not JSON (`run.py`'s `_decode`).
pub fn decode(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// What a run produced, in `DescribeExecution`/`GetExecutionHistory` terms.
#[derive(Debug, Clone)]
pub struct Actual<'a> {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED` or `RUNNING`.
    pub status: &'a str,
    /// The output, once succeeded.
    pub output: Option<&'a Value>,
    /// `error`.
    pub error: Option<&'a str>,
    /// `cause`.
    pub cause: Option<&'a str>,
    /// The history's event types (`None` when there is no history, as for sync starts).
    pub event_types: Option<Vec<&'a str>>,
    /// The history in `GetExecutionHistory` JSON, when event details are compared.
    pub events: Option<&'a [Value]>,
}

/// Compares a run with the case's `expected` (`run.py`'s `compare_outcome`).
pub fn compare_outcome(case: &crate::case::Case, actual: &Actual<'_>) -> Vec<String> {
    let exp = &case.expected;
    let ph = match case_placeholders(&case.placeholders) {
        Ok(ph) => ph,
        Err(e) => return vec![format!("case: {e}")],
    };
    let mut diffs = Vec::new();
    let want_status = exp.get("status").and_then(Value::as_str).unwrap_or("");
    if actual.status != want_status {
        let detail = match actual.status {
            "FAILED" => format!(
                " ({}: {})",
                actual.error.unwrap_or("None"),
                truncate(actual.cause.unwrap_or("None"), 160)
            ),
            "SUCCEEDED" => format!(
                " (output {})",
                truncate(&short(actual.output.unwrap_or(&Value::Null)), 100)
            ),
            _ => String::new(),
        };
        diffs.push(format!(
            "status: expected {want_status}, got {}{detail}",
            actual.status
        ));
        if want_status == "FAILED" {
            diffs.push(format!(
                "expected error {}",
                short(exp.get("error").unwrap_or(&Value::Null))
            ));
        }
        return diffs;
    }
    if let Some(want) = exp.get("output") {
        let output = actual.output.cloned().unwrap_or(Value::Null);
        let got = if exp.get("output_undecodable") == Some(&Value::Bool(true)) {
            Value::String(output.to_string())
        } else {
            output
        };
        compare(want, &got, &[Key::Name("output".into())], &ph, &mut diffs);
    }
    for (field, value) in [("error", actual.error), ("cause", actual.cause)] {
        let Some(want) = exp.get(field) else { continue };
        let keys = [Key::Name(field.into())];
        match want {
            Value::Null => {
                if let Some(value) = value.filter(|v| !v.is_empty()) {
                    diffs.push(format!(
                        "{field}: expected none, got {}",
                        short(&Value::String(value.into()))
                    ));
                }
            }
            Value::Object(_) | Value::Array(_) => {
                let got = value.map(decode).unwrap_or(Value::Null);
                compare(want, &got, &keys, &ph, &mut diffs);
            }
            _ => {
                let got = value.map_or(Value::Null, |v| Value::String(v.into()));
                compare(want, &got, &keys, &ph, &mut diffs);
            }
        }
    }
    if let (Some(want), Some(got)) = (
        exp.get("event_types").and_then(Value::as_array),
        &actual.event_types,
    ) {
        let want: Vec<&str> = want.iter().filter_map(Value::as_str).collect();
        let same = if case.event_order.as_deref() == Some("multiset") {
            let mut a = want.clone();
            let mut b = got.clone();
            a.sort_unstable();
            b.sort_unstable();
            a == b
        } else {
            want == *got
        };
        if !same {
            diffs.push(format!("events: {}", event_diff(&want, got)));
        }
        if diffs.is_empty()
            && let (Some(events), Some(_)) = (actual.events, exp.get("events"))
        {
            diffs.extend(compare_events(case, events));
        }
    }
    diffs
}

fn event_diff(want: &[&str], got: &[&str]) -> String {
    for (i, (a, b)) in want.iter().zip(got).enumerate() {
        if a != b {
            return format!(
                "#{} expected {a}, got {b} ({} vs {} events)",
                i + 1,
                want.len(),
                got.len()
            );
        }
    }
    format!("expected {} events, got {}", want.len(), got.len())
}

/// Values that the snapshots replaced in events only, so no case lists them.
const EVENT_LITERALS: [&str; 6] = [
    "map_run_arn",
    "activity_arn",
    "sqs_queue_url",
    "bucket-name",
    "lambda_function_name",
    "a_message_id",
];

/// Compares every recorded history event with the actual one, field by field: at the same
/// position, or (`event_order: multiset`) with any unused event of the same type.
pub fn compare_events(case: &crate::case::Case, events: &[Value]) -> Vec<String> {
    let strict = case.event_order.as_deref() != Some("multiset");
    let mut listed: HashMap<String, Placeholder> = EVENT_LITERALS
        .iter()
        .map(|s| ((*s).to_owned(), Placeholder::any(s)))
        .collect();
    for entry in &case.placeholders {
        if let Some(recorded) = entry.get("recorded").and_then(Value::as_str)
            && let Ok(p) = Placeholder::from_json(entry)
        {
            listed.insert(recorded.to_owned(), p);
        }
    }
    let recorded = case
        .expected
        .get("events")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let want: Vec<Value> = recorded.iter().map(|e| event_view(e, strict)).collect();
    let got: Vec<Value> = events.iter().map(|e| event_view(e, strict)).collect();
    let type_of = |v: &Value| {
        v.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let diff = |i: usize, g: &Value| {
        let label = format!("event #{} {}", i + 1, type_of(&want[i]));
        let keys = vec![Key::Name(label)];
        let mut ph = Placeholders::new();
        index_placeholders(&want[i], &keys, &listed, &mut ph);
        let mut diffs = Vec::new();
        compare(&want[i], g, &keys, &ph, &mut diffs);
        diffs
    };
    if strict {
        let mut diffs = Vec::new();
        for i in 0..want.len() {
            diffs.extend(diff(i, got.get(i).unwrap_or(&Value::Null)));
        }
        return diffs;
    }
    let mut unused: Vec<usize> = (0..got.len()).collect();
    for (i, w) in want.iter().enumerate() {
        let mut tries: Vec<(usize, Vec<String>)> = Vec::new();
        for &g in &unused {
            if type_of(&got[g]) == type_of(w) {
                let d = diff(i, &got[g]);
                let clean = d.is_empty();
                tries.push((g, d));
                if clean {
                    break;
                }
            }
        }
        let Some(best) = tries.iter().min_by_key(|(_, d)| d.len()) else {
            return vec![format!(
                "event #{} {}: no such event left",
                i + 1,
                type_of(w)
            )];
        };
        if !best.1.is_empty() {
            return best.1.clone();
        }
        let best = best.0;
        unused.retain(|g| *g != best);
    }
    Vec::new()
}

/// What must match in an event: JSON texts decoded, no timestamp, no role ARN, and no ids
/// where branches and iterations may interleave differently.
fn event_view(event: &Value, strict_order: bool) -> Value {
    let Value::Object(event) = event else {
        return event.clone();
    };
    let mut view = Map::new();
    for (key, value) in event {
        let skip =
            key == "timestamp" || (!strict_order && (key == "id" || key == "previousEventId"));
        if skip {
            continue;
        }
        let value = match value {
            Value::Object(details) => {
                let mut out = Map::new();
                for (field, x) in details {
                    if field == "roleArn" {
                        continue;
                    }
                    let mut x = json_value(x);
                    if field == "assignedVariables"
                        && let Value::Object(vars) = &x
                    {
                        x = Value::Object(
                            vars.iter()
                                .map(|(n, v)| (n.clone(), json_value(v)))
                                .collect(),
                        );
                    }
                    out.insert(field.clone(), x);
                }
                Value::Object(out)
            }
            other => other.clone(),
        };
        view.insert(key.clone(), value);
    }
    Value::Object(view)
}

fn json_value(value: &Value) -> Value {
    match value {
        Value::String(text) => decode(text),
        other => other.clone(),
    }
}

fn index_placeholders(
    value: &Value,
    keys: &[Key],
    listed: &HashMap<String, Placeholder>,
    ph: &mut Placeholders,
) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let mut sub = keys.to_vec();
                sub.push(Key::Name(k.clone()));
                index_placeholders(v, &sub, listed, ph);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let mut sub = keys.to_vec();
                sub.push(Key::Index(i));
                index_placeholders(v, &sub, listed, ph);
            }
        }
        Value::String(s) => {
            if let Some(p) = placeholder_for(s, listed) {
                ph.insert(keys.to_vec(), p);
            }
        }
        _ => {}
    }
}

/// A placeholder for a recorded string: a listed one, or one built from the placeholder
/// tokens it contains (`<ArnPart_0idx>`, `111111111111`, `<region>`, a lone `date`...).
fn placeholder_for(s: &str, listed: &HashMap<String, Placeholder>) -> Option<Placeholder> {
    if let Some(p) = listed.get(s) {
        return Some(p.clone());
    }
    let tokens = tokens(s);
    if tokens.is_empty() {
        return None;
    }
    let mut pattern = String::new();
    let mut pos = 0;
    for &(start, end) in &tokens {
        pattern.push_str(&regex::escape(&s[pos..start]));
        pattern.push_str(match &s[start..end] {
            "111111111111" => r"\d{12}",
            "<region>" => r"[a-z]{2}(?:-[a-z]+)+-\d",
            "<partition>" => r"aws[a-z-]*",
            _ => ".+?",
        });
        pos = end;
    }
    let whole = tokens.len() == 1 && tokens[0] == (0, s.len()) && pattern == ".+?";
    if whole {
        return Some(Placeholder::any(s));
    }
    pattern.push_str(&regex::escape(&s[pos..]));
    Some(Placeholder {
        recorded: Value::String(s.to_owned()),
        pattern: full_match(&pattern).ok(),
    })
}

/// The placeholder tokens in `s` as byte ranges, as `run.py`'s `_TOKEN` finds them: the bare
/// words only where no letter, digit or `_` touches them (the regex crate has no lookaround,
/// so the boundary is checked here).
fn tokens(s: &str) -> Vec<(usize, usize)> {
    static TOKEN: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let token = TOKEN.get_or_init(|| {
        Regex::new(
            r"<[A-Za-z][A-Za-z0-9_\-.]*(?::\d+)?>|111111111111|(?:datetime|timestamp|date|snf_role_arn|sfn_role_arn)",
        )
        .expect("static regex")
    });
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut out = Vec::new();
    let mut at = 0;
    while at <= s.len() {
        let Some(m) = token.find_at(s, at) else { break };
        let bare = !m.as_str().starts_with('<') && m.as_str() != "111111111111";
        let touching =
            word(s[..m.start()].chars().next_back()) || word(s[m.end()..].chars().next());
        if bare && touching {
            // Try again one character further, as a failed lookaround would.
            at = m.start() + s[m.start()..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        out.push((m.start(), m.end()));
        at = m.end().max(m.start() + 1);
    }
    out
}

#[cfg(test)]
mod tests;
