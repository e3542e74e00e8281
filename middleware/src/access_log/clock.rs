//! Log timestamps for `$time_local` (`21/Nov/2026:09:19:14 +0000`) and `$time_iso8601`
//! (`2026-11-21T09:19:14+0000`, HTTP.jl's `%FT%T%z`), in UTC or a fixed offset.
//!
//! Hand-written (a calendar conversion and two `write!`s) because no light crate fits:
//! `httpdate` formats only RFC 9110's IMF-fixdate; `time` refuses to read the local offset
//! on Unix once a process has several threads (a tokio server always has), so it would log
//! UTC anyway; `chrono` would bring a time-zone database reader for two fixed layouts.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use super::entry::ascii;

/// Where a log line's time comes from; a plain function so tests can fix it.
pub(crate) type Clock = fn() -> SystemTime;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down wall-clock time at a fixed UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timestamp {
    year: i64,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    offset_minutes: i16,
}

impl Timestamp {
    /// `at` as seen `offset_minutes` east of UTC.
    pub(crate) fn new(at: SystemTime, offset_minutes: i16) -> Timestamp {
        let secs = match at.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
            // Before 1970 (a wrong clock): round down to the whole second.
            Err(e) => {
                let d = e.duration();
                let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2);
                -whole - i64::from(d.subsec_nanos() > 0)
            }
        };
        let local = secs.saturating_add(i64::from(offset_minutes) * 60);
        let (days, in_day) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        Timestamp {
            year,
            month,
            day,
            hour: (in_day / 3600) as u8,
            minute: (in_day / 60 % 60) as u8,
            second: (in_day % 60) as u8,
            offset_minutes,
        }
    }

    /// nginx's `$time_local`: `21/Nov/2026:09:19:14 +0000`.
    pub(crate) fn write_local<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        // Digits by hand: `write!` with padding costs more than the rest of a log line.
        let month = MONTHS[usize::from(self.month.saturating_sub(1)).min(11)].as_bytes();
        let [d0, d1] = two_digits(self.day);
        out.write_str(ascii(&[d0, d1, b'/', month[0], month[1], month[2], b'/']))?;
        self.write_year(out)?;
        let [h0, h1] = two_digits(self.hour);
        let [m0, m1] = two_digits(self.minute);
        let [s0, s1] = two_digits(self.second);
        out.write_str(ascii(&[b':', h0, h1, b':', m0, m1, b':', s0, s1, b' ']))?;
        self.write_offset(out)
    }

    /// HTTP.jl's `$time_iso8601` (`strftime("%FT%T%z")`): `2026-11-21T09:19:14+0000`.
    pub(crate) fn write_iso8601<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        self.write_year(out)?;
        let [mo0, mo1] = two_digits(self.month);
        let [d0, d1] = two_digits(self.day);
        let [h0, h1] = two_digits(self.hour);
        let [m0, m1] = two_digits(self.minute);
        let [s0, s1] = two_digits(self.second);
        out.write_str(ascii(&[
            b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', m0, m1, b':', s0, s1,
        ]))?;
        self.write_offset(out)
    }

    fn write_year<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        match u16::try_from(self.year) {
            Ok(year) if year <= 9999 => {
                let [a, b] = two_digits((year / 100) as u8);
                let [c, d] = two_digits((year % 100) as u8);
                out.write_str(ascii(&[a, b, c, d]))
            }
            _ => write!(out, "{:04}", self.year),
        }
    }

    fn write_offset<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        let sign = if self.offset_minutes < 0 { b'-' } else { b'+' };
        let abs = self.offset_minutes.unsigned_abs();
        let [h0, h1] = two_digits((abs / 60).min(99) as u8);
        let [m0, m1] = two_digits((abs % 60) as u8);
        out.write_str(ascii(&[sign, h0, h1, m0, m1]))
    }
}

/// `n` (below 100) as two ASCII digits.
fn two_digits(n: u8) -> [u8; 2] {
    [b'0' + n / 10 % 10, b'0' + n % 10]
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8; // [1, 31]
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u8; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_local_and_iso8601() {
        for (secs, offset, local, iso) in [
            (
                0,
                0,
                "01/Jan/1970:00:00:00 +0000",
                "1970-01-01T00:00:00+0000",
            ),
            (
                1_795_252_754,
                0,
                "21/Nov/2026:09:19:14 +0000",
                "2026-11-21T09:19:14+0000",
            ),
            (
                1_709_251_199,
                0,
                "29/Feb/2024:23:59:59 +0000",
                "2024-02-29T23:59:59+0000",
            ),
            (
                1_709_251_199,
                60,
                "01/Mar/2024:00:59:59 +0100",
                "2024-03-01T00:59:59+0100",
            ),
            (
                253_402_300_799,
                0,
                "31/Dec/9999:23:59:59 +0000",
                "9999-12-31T23:59:59+0000",
            ),
            (
                253_402_300_800,
                0,
                "01/Jan/10000:00:00:00 +0000",
                "10000-01-01T00:00:00+0000",
            ),
            (
                951_868_800,
                -90,
                "29/Feb/2000:22:30:00 -0130",
                "2000-02-29T22:30:00-0130",
            ),
        ] {
            let t = Timestamp::new(UNIX_EPOCH + Duration::from_secs(secs), offset);
            let (mut l, mut i) = (String::new(), String::new());
            t.write_local(&mut l).unwrap();
            t.write_iso8601(&mut i).unwrap();
            assert_eq!((l.as_str(), i.as_str()), (local, iso), "{secs} {offset}");
        }
    }

    #[test]
    fn before_the_epoch_does_not_panic() {
        let t = Timestamp::new(UNIX_EPOCH - Duration::from_millis(500), 0);
        let mut s = String::new();
        t.write_iso8601(&mut s).unwrap();
        assert_eq!(s, "1969-12-31T23:59:59+0000");
    }
}
