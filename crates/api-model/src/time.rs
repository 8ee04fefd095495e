//! Timestamps on the wire: AWS JSON 1.0 sends dates as epoch seconds, a JSON number with up to
//! millisecond precision (`1795237541.006`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since the Unix epoch, serialized as epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The JSON number: whole seconds, then `.` and the milliseconds without trailing zeros.
    pub fn to_number(self) -> serde_json::Number {
        let millis = self.0;
        let seconds = millis.div_euclid(1000);
        let fraction = millis.rem_euclid(1000);
        let text = if fraction == 0 {
            format!("{seconds}")
        } else {
            let digits = format!("{fraction:03}");
            format!("{seconds}.{}", digits.trim_end_matches('0'))
        };
        // The text is always a valid JSON number, so parsing cannot fail; fall back to the
        // float just in case.
        text.parse::<serde_json::Number>()
            .ok()
            .or_else(|| serde_json::Number::from_f64(millis as f64 / 1000.0))
            .unwrap_or_else(|| serde_json::Number::from(seconds))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_number().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        let seconds = number
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("timestamp is not a number"))?;
        Ok(Timestamp((seconds * 1000.0).round() as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_epoch_seconds() {
        for (millis, text) in [
            (1_795_237_541_006, "1795237541.006"),
            (1_795_237_541_000, "1795237541"),
            (1_795_237_541_500, "1795237541.5"),
            (1_795_237_541_050, "1795237541.05"),
            (0, "0"),
        ] {
            assert_eq!(serde_json::to_string(&Timestamp(millis)).unwrap(), text);
            let back: Timestamp = serde_json::from_str(text).unwrap();
            assert_eq!(back, Timestamp(millis));
        }
    }
}
