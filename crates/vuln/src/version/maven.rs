//! Maven's `ComparableVersion` (maven-artifact 3.8.7, the one Debian ships and the tests
//! compare with): items split at `.`, `-` and at digit/letter transitions, `-`,
//! transitions and qualifiers after a `.` opening a sub-list; well-known
//! qualifiers ordered `alpha < beta < milestone < rc < snapshot < (release) < sp`, any
//! other qualifier after them alphabetically; trailing zero items ignored.

use std::cmp::Ordering;

#[derive(Clone, Debug)]
enum Item {
    /// Digits without leading zeros (arbitrary length, compared as a number).
    Int(String),
    /// A qualifier after aliasing (`ga`, `final`, `release` → empty; `cr` → `rc`).
    Str(String),
    List(Vec<Item>),
}

/// A parsed Maven version.
#[derive(Clone, Debug)]
pub struct MavenVersion {
    items: Vec<Item>,
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: &str = "5";

impl MavenVersion {
    /// Every string is a Maven version; parsing cannot fail.
    pub fn parse(text: &str) -> MavenVersion {
        let version = text.to_lowercase();
        let bytes = version.as_bytes();
        // A stack of open lists; each list's items, the innermost last.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0;
        for (i, &c) in bytes.iter().enumerate() {
            if c == b'.' || c == b'-' {
                let list = stack.last_mut().expect("stack has the root");
                if i == start {
                    list.push(Item::Int(String::new()));
                } else {
                    list.push(item(is_digit, &version[start..i], false));
                }
                start = i + 1;
                if c == b'-' {
                    stack.push(Vec::new());
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // `.X1` is read as `-X1`: a qualifier opens a sub-list.
                    if !stack.last().expect("stack has the root").is_empty() {
                        stack.push(Vec::new());
                    }
                    let list = stack.last_mut().expect("stack has the root");
                    list.push(item(false, &version[start..i], true));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    let list = stack.last_mut().expect("stack has the root");
                    list.push(item(true, &version[start..i], false));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if version.len() > start {
            // A trailing `.X` qualifier is read as `-X` too.
            if !is_digit && !stack.last().expect("stack has the root").is_empty() {
                stack.push(Vec::new());
            }
            let list = stack.last_mut().expect("stack has the root");
            list.push(item(is_digit, &version[start..], false));
        }
        // Close the lists innermost first: each is normalised, then becomes the last
        // item of its parent.
        while stack.len() > 1 {
            let mut list = stack.pop().expect("more than one");
            normalize(&mut list);
            stack.last_mut().expect("parent").push(Item::List(list));
        }
        let mut items = stack.pop().expect("root");
        normalize(&mut items);
        MavenVersion { items }
    }
}

fn item(is_digit: bool, text: &str, followed_by_digit: bool) -> Item {
    if is_digit {
        return Item::Int(text.trim_start_matches('0').to_owned());
    }
    let mut value = text;
    if followed_by_digit && value.len() == 1 {
        value = match value {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        };
    }
    let value = match value {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(value.to_owned())
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(digits) => digits.is_empty(),
        Item::Str(s) => s.is_empty(),
        Item::List(items) => items.is_empty(),
    }
}

/// Drops trailing null items, stopping at the first non-null item that is not a list.
fn normalize(items: &mut Vec<Item>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if is_null(&items[i]) {
            items.remove(i);
        } else if !matches!(items[i], Item::List(_)) {
            break;
        }
    }
}

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn cmp_int(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `a.compareTo(b)`, where `None` is Maven's `null` (a missing item).
fn cmp_item(a: &Item, b: Option<&Item>) -> Ordering {
    match (a, b) {
        (Item::Int(x), None) => {
            if x.is_empty() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (Item::Int(x), Some(Item::Int(y))) => cmp_int(x, y),
        (Item::Int(_), Some(_)) => Ordering::Greater,
        (Item::Str(s), None) => comparable_qualifier(s).as_str().cmp(RELEASE_INDEX),
        (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
        (Item::Str(x), Some(Item::Str(y))) => comparable_qualifier(x).cmp(&comparable_qualifier(y)),
        (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
        (Item::List(items), None) => items
            .iter()
            .map(|i| cmp_item(i, None))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
        (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
        (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
        (Item::List(x), Some(Item::List(y))) => cmp_lists(x, y),
    }
}

fn cmp_lists(x: &[Item], y: &[Item]) -> Ordering {
    for i in 0..x.len().max(y.len()) {
        let order = match (x.get(i), y.get(i)) {
            (Some(a), b) => cmp_item(a, b),
            (None, Some(b)) => cmp_item(b, None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}
impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for MavenVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ord(a: &str, b: &str) -> Ordering {
        MavenVersion::parse(a).cmp(&MavenVersion::parse(b))
    }

    #[test]
    fn maven_documented_orderings() {
        // From ComparableVersion's documentation and Maven's own test cases.
        let ascending = [
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ];
        for w in ascending.windows(2) {
            assert_eq!(ord(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        for (a, b) in [
            ("1", "1.0.0"),
            ("1-ga", "1"),
            ("1.0-final", "1"),
            ("1cr", "1rc"),
        ] {
            assert_eq!(ord(a, b), Ordering::Equal, "{a} == {b}");
        }
    }
}
