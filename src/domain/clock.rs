//! Time as the service keeps it (milliseconds since the Unix epoch, UTC) and
//! its wire form `YYYY-MM-DD hh:mm:ss`.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

/// `YYYY-MM-DD hh:mm:ss` in UTC, the format of the specification's examples.
pub fn format_utc(ms: Millis) -> String {
    format_with(ms, ' ')
}

/// `YYYY-MM-DDThh:mm:ss` in UTC (ISO 8601, as libvirt's `passwdValidTo`).
pub fn format_iso(ms: Millis) -> String {
    format_with(ms, 'T')
}

fn format_with(ms: Millis, sep: char) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}{sep}{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        // The spec's example `date --date @1576751520`.
        assert_eq!(format_utc(1_576_751_520_000), "2019-12-19 10:32:00");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(format_utc(-1000), "1969-12-31 23:59:59");
    }
}
