//! The context object (`$$` in JSONPath, `$states.context` in JSONata) and timestamps.

use serde_json::{Map, Value};

use crate::{ExecutionInfo, Millis};

/// What varies per state in the context object.
#[derive(Clone, Copy)]
pub(crate) struct StateContext<'a> {
    pub(crate) info: &'a ExecutionInfo,
    /// `$$.Execution.RedriveCount`.
    pub(crate) redrive_count: u64,
    /// A caller-supplied context object that replaces the built one.
    pub(crate) given: Option<&'a Value>,
    /// The time of the event being handled: what JSONata's `$now()` and `$millis()` return,
    /// so a replay evaluates them the same way.
    pub(crate) now: Millis,
    pub(crate) execution_input: &'a Value,
    pub(crate) start_time: Millis,
    pub(crate) state_name: &'a str,
    pub(crate) entered_time: Millis,
    pub(crate) retry_count: Option<u64>,
    pub(crate) token: Option<&'a str>,
    pub(crate) map_item: Option<(u64, &'a Value)>,
}

impl StateContext<'_> {
    /// Builds the context object with AWS's member order.
    /// Builds the context object; `with_input` includes `Execution.Input`.
    pub(crate) fn build(&self, with_input: bool) -> Value {
        if let Some(given) = self.given {
            return given.clone();
        }
        // Express executions (ARNs with `:express:`) cannot be redriven: AWS shows no
        // RedriveCount for them and orders the members differently.
        let express = self.info.execution_arn.contains(":express:");
        let mut execution = Map::new();
        execution.insert("Id".into(), Value::String(self.info.execution_arn.clone()));
        if with_input {
            execution.insert("Input".into(), self.execution_input.clone());
        }
        let start_time = Value::String(format_timestamp(self.start_time));
        if express {
            execution.insert("Name".into(), Value::String(self.info.name.clone()));
            execution.insert("RoleArn".into(), Value::String(self.info.role_arn.clone()));
            execution.insert("StartTime".into(), start_time);
        } else {
            execution.insert("StartTime".into(), start_time);
            execution.insert("Name".into(), Value::String(self.info.name.clone()));
            execution.insert("RoleArn".into(), Value::String(self.info.role_arn.clone()));
            execution.insert("RedriveCount".into(), Value::from(self.redrive_count));
        }
        let mut machine = Map::new();
        machine.insert(
            "Id".into(),
            Value::String(self.info.state_machine_arn.clone()),
        );
        machine.insert(
            "Name".into(),
            Value::String(self.info.state_machine_name.clone()),
        );
        let mut state = Map::new();
        state.insert("Name".into(), Value::String(self.state_name.to_owned()));
        state.insert(
            "EnteredTime".into(),
            Value::String(format_timestamp(self.entered_time)),
        );
        if let Some(count) = self.retry_count {
            state.insert("RetryCount".into(), Value::from(count));
        }
        let mut context = Map::new();
        context.insert("Execution".into(), Value::Object(execution));
        context.insert("StateMachine".into(), Value::Object(machine));
        context.insert("State".into(), Value::Object(state));
        if let Some(token) = self.token {
            let mut task = Map::new();
            task.insert("Token".into(), Value::String(token.to_owned()));
            context.insert("Task".into(), Value::Object(task));
        }
        if let Some((index, value)) = self.map_item {
            let mut item = Map::new();
            item.insert("Index".into(), Value::from(index));
            item.insert("Value".into(), value.clone());
            let mut map = Map::new();
            map.insert("Item".into(), Value::Object(item));
            context.insert("Map".into(), Value::Object(map));
        }
        Value::Object(context)
    }
}

/// Formats epoch milliseconds as `2026-11-21T05:05:41.006Z`.
pub(crate) fn format_timestamp(millis: Millis) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Parses an ISO-8601 extended offset date-time (`2016-03-14T01:59:00Z`,
/// `2016-03-14T01:59:00.123+01:00`) into epoch milliseconds, as AWS's Wait state and
/// timestamp comparisons accept them.
pub(crate) fn parse_timestamp(text: &str) -> Option<Millis> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |s: &[u8]| -> Option<i64> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = num(&b[0..4])?;
    let month = num(&b[5..7])?;
    let day = num(&b[8..10])?;
    let hour = num(&b[11..13])?;
    let minute = num(&b[14..16])?;
    let second = num(&b[17..19])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let mut value = num(&frac[..digits])?;
        for _ in digits..3 {
            value *= 10;
        }
        for _ in 3..digits {
            value /= 10;
        }
        millis = value;
        rest = &frac[digits..];
    }
    let offset_minutes = match rest {
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = num(&[*h1, *h2])?;
            let m = num(&[*m1, *m2])?;
            if h > 18 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            if *sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        for (text, millis) in [
            ("1970-01-01T00:00:00.000Z", 0),
            ("2016-03-14T01:59:00.000Z", 1_457_920_740_000),
            ("2026-11-21T05:05:41.006Z", 1_795_237_541_006),
        ] {
            assert_eq!(parse_timestamp(text), Some(millis), "{text}");
            assert_eq!(format_timestamp(millis), text);
        }
        assert_eq!(
            parse_timestamp("2016-03-14T02:59:00+01:00"),
            Some(1_457_920_740_000)
        );
        for bad in [
            "2016-13-05T21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-12-05T21:29:29",
            "2016-02-30T00:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
