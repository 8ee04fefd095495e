//! Expected-value matching for JSON: numbers by value (1 equals 1.0), `"<any>"` matches
//! anything present, `"<nonempty>"` a non-empty array or string, `"<endpoint>"` the harness's
//! endpoint URL; objects match when every expected key matches (extra keys are allowed).

use serde_json::Value;

pub fn matches(expected: &Value, actual: &Value, endpoint: &str) -> Result<(), String> {
    check(expected, actual, endpoint, "$")
}

fn check(expected: &Value, actual: &Value, endpoint: &str, at: &str) -> Result<(), String> {
    let ok = match (expected, actual) {
        (Value::String(s), _) if s == "<any>" => true,
        (Value::String(s), Value::Array(a)) if s == "<nonempty>" => !a.is_empty(),
        (Value::String(s), Value::String(a)) if s == "<nonempty>" => !a.is_empty(),
        (Value::String(s), Value::String(a)) if s == "<endpoint>" => a == endpoint,
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let Some(got) = a.get(key) else {
                    return Err(format!("{at}.{key}: missing in {actual}"));
                };
                check(value, got, endpoint, &format!("{at}.{key}"))?;
            }
            true
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!("{at}: expected {expected}, got {actual}"));
            }
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                check(x, y, endpoint, &format!("{at}[{i}]"))?;
            }
            true
        }
        _ => expected == actual,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{at}: expected {expected}, got {actual}"))
    }
}
