//! The Choice state: rule evaluation and every comparison operator.

use std::sync::Arc;

use baton_asl::{Choice, Comparison, Condition, Operand, QueryLanguage, State, StateId};
use serde_json::Value;

use super::{Engine, Frame, Outcome, RunId};
use crate::context::parse_timestamp;
use crate::io::{Failure, Scope};

pub(super) fn execute(
    engine: &mut Engine,
    id: RunId,
    state: &State,
    frame: &mut Frame,
    choice: &Choice,
) -> Outcome {
    let run = engine.run(id).clone_light();
    let ctx = engine.state_context(&run, state, frame.entered_time, None, None);
    let mut rng = engine.rng.clone();
    let decided = (|| {
        let input = match state.query_language {
            QueryLanguage::JsonPath => &frame.effective,
            QueryLanguage::Jsonata => &frame.input,
        };
        let mut scope = Scope::new(input, &ctx, &run.vars, &mut rng);
        let mut chosen: Option<(StateId, Option<usize>)> = None;
        for (i, rule) in choice.rules.iter().enumerate() {
            if evaluate(
                &mut scope,
                &rule.condition,
                &format!("Choices[{i}]/Condition"),
            )? {
                chosen = Some((rule.next, Some(i)));
                break;
            }
        }
        let (next, rule) = match chosen.or(choice.default.map(|d| (d, None))) {
            Some(c) => c,
            None => {
                return Err(Failure::plain(
                    "States.NoChoiceMatched",
                    Some(format!(
                        "An error occurred while executing the state '{}' (entered at the event id #{}). Failed to transition out of the state. No Choice rule matched and no Default transition was specified.",
                        state.name, frame.entered_event
                    )),
                ));
            }
        };
        let rule = rule.map(|i| &choice.rules[i]);
        let assign = rule
            .and_then(|r| r.assign.as_ref())
            .or(state.assign.as_ref());
        let assigned = match assign {
            Some(t) => Some(scope.template(t, "Assign")?),
            None => None,
        };
        let output = match state.query_language {
            QueryLanguage::JsonPath => scope.filter(&state.output_path, &frame.effective)?,
            QueryLanguage::Jsonata => match rule
                .and_then(|r| r.output.as_ref())
                .or(state.output.as_ref())
            {
                Some(t) => Arc::new(scope.template(t, "Output")?),
                None => frame.input.clone(),
            },
        };
        Ok((next, output, assigned))
    })();
    engine.rng = rng;
    match decided {
        Ok((next, output, assigned)) => {
            let assigned = assigned.map(|a| engine.assign(id, a));
            engine.exit(id, state, output, assigned, Some(next));
            Outcome::Done
        }
        Err(f) => Outcome::Failed(f),
    }
}

fn evaluate(scope: &mut Scope<'_>, condition: &Condition, field: &str) -> Result<bool, Failure> {
    match condition {
        Condition::And(list) => {
            for c in list {
                if !evaluate(scope, c, field)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(list) => {
            for c in list {
                if evaluate(scope, c, field)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(c) => Ok(!evaluate(scope, c, field)?),
        Condition::Jsonata(expr) => match scope.jsonata(expr, field)? {
            Value::Bool(b) => Ok(b),
            other => Err(Failure::query(
                field,
                format!(
                    "The JSONata expression '{}' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {}",
                    expr.text(),
                    crate::io::type_name(&other),
                    crate::io::compact(&other)
                ),
            )),
        },
        Condition::Compare {
            variable,
            op,
            operand,
        } => {
            let value = match scope.resolve_invalid_path(variable) {
                Ok(v) => Some(v),
                Err(_) if is_type_test(*op) => None,
                Err(e) => return Err(e),
            };
            let operand = match operand {
                Operand::Literal(v) => v.clone(),
                Operand::Path(p) => scope.resolve_invalid_path(p)?,
            };
            Ok(compare(value.as_ref(), *op, &operand))
        }
    }
}

fn is_type_test(op: Comparison) -> bool {
    matches!(
        op,
        Comparison::IsPresent
            | Comparison::IsNull
            | Comparison::IsNumeric
            | Comparison::IsString
            | Comparison::IsBoolean
            | Comparison::IsTimestamp
    )
}

/// Applies `op` to the variable's value (`None` when the path matched nothing).
pub(crate) fn compare(value: Option<&Value>, op: Comparison, operand: &Value) -> bool {
    use Comparison::*;
    let expect = operand.as_bool().unwrap_or(false);
    match op {
        IsPresent => value.is_some() == expect,
        IsNull => value.is_some_and(Value::is_null) == expect,
        IsNumeric => value.is_some_and(Value::is_number) == expect,
        IsString => value.is_some_and(Value::is_string) == expect,
        IsBoolean => value.is_some_and(Value::is_boolean) == expect,
        IsTimestamp => {
            value
                .and_then(Value::as_str)
                .and_then(parse_timestamp)
                .is_some()
                == expect
        }
        _ => {
            let Some(value) = value else { return false };
            match op {
                StringEquals
                | StringLessThan
                | StringGreaterThan
                | StringLessThanEquals
                | StringGreaterThanEquals => match (value.as_str(), operand.as_str()) {
                    (Some(a), Some(b)) => ordered(op, a.cmp(b)),
                    _ => false,
                },
                StringMatches => match (value.as_str(), operand.as_str()) {
                    (Some(a), Some(pattern)) => string_matches(a, pattern),
                    _ => false,
                },
                NumericEquals
                | NumericLessThan
                | NumericGreaterThan
                | NumericLessThanEquals
                | NumericGreaterThanEquals => match (value.as_f64(), operand.as_f64()) {
                    (Some(a), Some(b)) if value.is_number() && operand.is_number() => {
                        match a.partial_cmp(&b) {
                            Some(o) => ordered(op, o),
                            None => false,
                        }
                    }
                    _ => false,
                },
                BooleanEquals => match (value.as_bool(), operand.as_bool()) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                },
                TimestampEquals
                | TimestampLessThan
                | TimestampGreaterThan
                | TimestampLessThanEquals
                | TimestampGreaterThanEquals => {
                    match (
                        value.as_str().and_then(parse_timestamp),
                        operand.as_str().and_then(parse_timestamp),
                    ) {
                        (Some(a), Some(b)) => ordered(op, a.cmp(&b)),
                        _ => false,
                    }
                }
                _ => false,
            }
        }
    }
}

fn ordered(op: Comparison, ordering: std::cmp::Ordering) -> bool {
    use Comparison::*;
    use std::cmp::Ordering::*;
    match op {
        StringEquals | NumericEquals | TimestampEquals => ordering == Equal,
        StringLessThan | NumericLessThan | TimestampLessThan => ordering == Less,
        StringGreaterThan | NumericGreaterThan | TimestampGreaterThan => ordering == Greater,
        StringLessThanEquals | NumericLessThanEquals | TimestampLessThanEquals => {
            ordering != Greater
        }
        StringGreaterThanEquals | NumericGreaterThanEquals | TimestampGreaterThanEquals => {
            ordering != Less
        }
        _ => false,
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literal.
pub(crate) fn string_matches(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        Star,
        Char(char),
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => tokens.push(Token::Char(next)),
                None => tokens.push(Token::Char('\\')),
            },
            '*' => tokens.push(Token::Star),
            other => tokens.push(Token::Char(other)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Classic wildcard matching with backtracking to the last star.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < tokens.len() && tokens[p] == Token::Char(text[t]) {
            t += 1;
            p += 1;
        } else if p < tokens.len() && tokens[p] == Token::Star {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while p < tokens.len() && tokens[p] == Token::Star {
        p += 1;
    }
    p == tokens.len()
}

#[cfg(test)]
mod tests {
    use super::string_matches;

    #[test]
    fn wildcards() {
        for (text, pattern, expected) in [
            ("log-2024.txt", "log-*.txt", true),
            ("log-.txt", "log-*.txt", true),
            ("log-2024.csv", "log-*.txt", false),
            ("a*b", "a\\*b", true),
            ("axb", "a\\*b", false),
            ("a\\b", "a\\\\b", true),
            ("anything", "*", true),
            ("", "*", true),
            ("abc", "a*c*", true),
        ] {
            assert_eq!(
                string_matches(text, pattern),
                expected,
                "{text} ~ {pattern}"
            );
        }
    }
}
