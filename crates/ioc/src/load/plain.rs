//! Plain lists: one indicator per line, the kind recognised per line.
//!
//! * Blank lines and lines starting with `#` or `;` are ignored (not counted as entries).
//! * The indicator is the first whitespace-separated word. What follows it is the entry's
//!   description, without a leading `#` or `;`: maltrail's `5.63.151.0/24 # rapid7`,
//!   Spamhaus DROP's `1.10.16.0/20 ; SBL256894`, ipsum's `1.2.3.4<TAB>7` (the number of
//!   blocklists; a feed description `"on {} blocklists"` makes that readable).
//! * Mixed lists (maltrail) hold addresses, ranges, `IP:port`, domains, URLs with or
//!   without a scheme and bare URL paths: each becomes its kind (see
//!   [`IndicatorValue::detect`](crate::IndicatorValue::detect)); bare paths (`/gate.php`),
//!   `name:port` and single-label names are skipped with their reason, because Haechi
//!   cannot match them without matching far too much.

use super::FeedLoad;
use crate::report::{LoadError, Location, SkipReason};

pub(crate) fn load(load: &mut FeedLoad<'_>, bytes: &[u8]) -> Result<(), LoadError> {
    let max_line = load.limits().max_line_bytes;
    for (number, line) in super::lines(bytes) {
        if line.len() > max_line {
            return Err(LoadError::LineTooLong {
                line: number,
                len: line.len(),
                max: max_line,
            });
        }
        let line = line.trim_ascii();
        if line.is_empty() || line[0] == b'#' || line[0] == b';' {
            continue;
        }
        load.report.entries += 1;
        let location = Location::Line(number);
        let Ok(line) = std::str::from_utf8(line) else {
            let lossy = String::from_utf8_lossy(line);
            load.skip(location, &lossy, SkipReason::NotUtf8);
            continue;
        };
        let (value, rest) = line
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((line, ""));
        let description = rest.trim_start().trim_start_matches(['#', ';']).trim();
        match load.read_value(value) {
            Ok(value) => {
                let meta = load.meta(Some(description));
                let meta = load.meta_id(meta);
                load.accept(&value, meta)?;
            }
            Err(reason) => load.skip(location, line, reason),
        }
    }
    Ok(())
}
