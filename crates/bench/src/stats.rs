//! Percentiles, timestamps and /proc memory readings for the figures.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Latency samples in milliseconds.
#[derive(Debug, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn push(&mut self, value: Duration) {
        self.0.push(value.as_secs_f64() * 1000.0);
    }

    pub fn push_ms(&mut self, value: f64) {
        self.0.push(value);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`th percentile (nearest rank), or NaN when empty.
    pub fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// `p50=… p99=… max=…` in milliseconds.
    pub fn summary(&self) -> String {
        format!(
            "p50={:.2}ms p99={:.2}ms max={:.2}ms",
            self.percentile(50.0),
            self.percentile(99.0),
            self.percentile(100.0)
        )
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// `epoch_ms` as an RFC 3339 UTC timestamp with milliseconds (for Wait `Timestamp`).
pub fn rfc3339_ms(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let millis = epoch_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// `VmRSS` and `VmHWM` of `pid` in MiB, from /proc/PID/status.
pub fn memory_mib(pid: u32) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<f64> {
        let line = status
            .lines()
            .find(|line| line.starts_with(name))
            .ok_or_else(|| anyhow::anyhow!("no {name} in /proc/{pid}/status"))?;
        let kib: f64 = line
            .trim_start_matches(name)
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut samples = Samples::default();
        for ms in 1..=100 {
            samples.push_ms(f64::from(ms));
        }
        assert_eq!(samples.percentile(50.0), 50.0);
        assert_eq!(samples.percentile(99.0), 99.0);
        assert_eq!(samples.percentile(100.0), 100.0);
        assert!(Samples::default().percentile(50.0).is_nan());
    }

    #[test]
    fn timestamps() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_001, "2000-02-29T00:00:00.001Z"),
            (1_795_000_000_123, "2026-11-18T11:06:40.123Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(rfc3339_ms(ms), text);
        }
    }
}
