//! Every Sigma value modifier and condition form, asserted as the Sigma specification
//! prescribes, through Haechi's own API: a rule file is written to a temporary directory,
//! loaded with `load_rules`, compiled with `Detector::new`, and evaluated with `detect` on
//! an `Event` built with `Event::new` + `push`.
//!
//! The specification quoted below is SigmaHQ/sigma-specification:
//! * "rules spec": `specification/sigma-rules-specification.md` (v2.0.0): wildcards,
//!   escaping, lists and maps, special values, field existence, placeholders, keywords,
//!   conditions;
//! * "modifiers appendix": `specification/sigma-appendix-modifiers.md` (v2.1.0).
//!
//! Every event is a Sysmon event id 1 (`winlog.channel` + `event.code`, so Haechi's
//! logsource mapping gives it `product: windows, category: process_creation`), and every
//! test field is stored under its EVTX path (`Event.EventData.<Name>`) as Haechi's EVTX
//! parser stores it, so Haechi's field resolution (`sigma_event.rs`) is exercised too.
//!
//! Cases where rsigma 0.23 (or Haechi's glue) departs from the specification are not
//! asserted here (they would fail); they are listed, with the rule, the event and the
//! quoted sentence, in the report that accompanied this file. In short: `windash` only
//! expands `-` (a rule written with `/` or a Unicode dash does not match `-`);
//! `base64offset` keeps the alignment-dependent last character, so a value followed by
//! more data is often missed; `wide`/`utf16le`/`utf16be`/`utf16` without a base64
//! modifier are ignored; `*` and `?` do not match a line break; the `'|all':` keyword form
//! never fires; and `null` inside a value list does not match an absent field.

use haechi_detect::hunt::Detector;
use haechi_detect::rules::load_rules;
use haechi_event::{Event, Timestamp, Value};
use std::sync::Arc;

const RULE_ID: &str = "5a1e0000-0000-4000-8000-000000000001";
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Removes the common indentation of a multi-line snippet (and its first empty line).
fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes a rule with the given `detection:` body, loads and compiles it with Haechi's
/// API. `Err` carries the reason when the rule is rejected.
fn compile(detection: &str) -> Result<Detector, String> {
    let body: String = dedent(detection)
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    let text = format!(
        "title: modifier test\nid: {RULE_ID}\nstatus: test\n\
         logsource:\n    product: windows\n    category: process_creation\n\
         detection:\n{body}level: high\n"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rule.yml");
    std::fs::write(&path, &text).expect("write rule");
    let set = load_rules(&[path]).expect("load_rules");
    if let Some(f) = set.failures.first() {
        return Err(f.reason.clone());
    }
    assert_eq!(set.rules.len(), 1, "one rule loads:\n{text}");
    let (detector, failures) = Detector::new(&set);
    match failures.first() {
        Some(f) => Err(f.reason.clone()),
        None => Ok(detector),
    }
}

struct Rule(Detector);

/// A rule made of its detection body (`selection: …` + `condition: …`).
fn rule(detection: &str) -> Rule {
    match compile(detection) {
        Ok(d) => Rule(d),
        Err(e) => panic!("rule rejected: {e}\n{}", dedent(detection)),
    }
}

/// A rule with one selection, `selection`, holding the given items.
fn sel(items: &str) -> Rule {
    let items: String = dedent(items)
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    rule(&format!("selection:\n{items}condition: selection"))
}

/// Whether loading or compiling the rule fails.
fn rejected(detection: &str) -> bool {
    compile(detection).is_err()
}

/// Whether the rule fires on a Sysmon process-creation event with these EventData fields.
fn fires(detection: &str, fields: &[(&str, &str)]) -> bool {
    rule(detection).fires(fields)
}

/// A Sysmon event id 1 (logsource `windows` / `sysmon` / `process_creation`) whose
/// EventData holds `fields`.
fn sysmon_event(fields: &[(&str, Value)]) -> Event {
    let mut event = Event::new(Timestamp(0), Arc::from("test"), fields.len() + 2);
    event.push("winlog.channel", SYSMON);
    event.push("event.code", "1");
    for (name, value) in fields {
        event.push(format!("Event.EventData.{name}"), value.clone());
    }
    event
}

impl Rule {
    fn fires(&self, fields: &[(&str, &str)]) -> bool {
        let typed: Vec<(&str, Value)> = fields.iter().map(|(n, v)| (*n, Value::from(*v))).collect();
        self.fires_typed(&typed)
    }

    fn fires_typed(&self, fields: &[(&str, Value)]) -> bool {
        self.fires_on(&sysmon_event(fields))
    }

    fn fires_on(&self, event: &Event) -> bool {
        self.0.detect(event, 0).iter().any(|d| d.rule.id == RULE_ID)
    }
}

/// Standard base64 (RFC 4648, with padding).
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn utf16be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

#[test]
fn helpers_encode_as_the_references_do() {
    assert_eq!(b64(b"whoami"), "d2hvYW1p");
    assert_eq!(b64(b"cmd"), "Y21k");
    assert_eq!(b64(b"http"), "aHR0cA==");
    assert_eq!(b64(b"https"), "aHR0cHM=");
    // The modifiers appendix's own examples.
    assert_eq!(utf16le("cmd"), [0x63, 0, 0x6d, 0, 0x64, 0]);
    assert_eq!(utf16be("cmd"), [0, 0x63, 0, 0x6d, 0, 0x64]);
}

// ---------------------------------------------------------------------------------------
// Plain values, case, lists and maps
// ---------------------------------------------------------------------------------------

/// Rules spec, General: "All values are treated as case-insensitive strings."
/// Modifiers appendix, `cased`: "Default Sigma behavior is case-insensitive matching."
#[test]
fn plain_values_match_the_whole_value_case_insensitively() {
    let r = sel(r"Image: 'C:\Windows\System32\whoami.exe'");
    assert!(r.fires(&[("Image", r"C:\Windows\System32\whoami.exe")]));
    assert!(r.fires(&[("Image", r"c:\WINDOWS\system32\WhoAmI.EXE")]));
    assert!(!r.fires(&[("Image", r"C:\Windows\System32\whoami.exe.bak")]));
    assert!(!r.fires(&[("Image", r"D:\C:\Windows\System32\whoami.exe")]));
    assert!(!r.fires(&[("ParentImage", r"C:\Windows\System32\whoami.exe")]));
    assert!(!r.fires(&[]));

    // Case-insensitivity is not limited to ASCII letters.
    let r = sel("Company: 'ÉDITEUR ÄÖÜ'");
    assert!(r.fires(&[("Company", "éditeur äöü")]));
    assert!(!r.fires(&[("Company", "editeur aou")]));

    // A number in a rule matches the number however the event carries it.
    let r = sel("EventID: 1");
    assert!(r.fires(&[]), "event.code \"1\" is the EventID");
    assert!(!sel("EventID: 3").fires(&[]));
    let r = sel("ProcessId: 4242");
    assert!(r.fires(&[("ProcessId", "4242")]));
    assert!(r.fires_typed(&[("ProcessId", Value::Int(4242))]));
    assert!(!r.fires_typed(&[("ProcessId", Value::Int(4243))]));
}

/// Rules spec, Lists: "All map items of a list are logically linked with 'OR'"; Maps:
/// "All elements of a map are joined with a logical 'AND'"; and a field's value list is
/// OR ("EventLog 'Security' **and** ( Event ID 517 **or** Event ID 1102 )").
#[test]
fn value_lists_are_or_maps_are_and_lists_of_maps_are_or() {
    // The spec's own example: a map with a value list.
    let r = sel(r"
        Provider: Security
        Code:
            - 517
            - 1102");
    assert!(r.fires(&[("Provider", "Security"), ("Code", "517")]));
    assert!(r.fires(&[("Provider", "security"), ("Code", "1102")]));
    assert!(!r.fires(&[("Provider", "Security"), ("Code", "4624")]));
    assert!(!r.fires(&[("Provider", "System"), ("Code", "517")]));
    assert!(!r.fires(&[("Code", "517")]), "every map item is required");

    // A value list under a modifier: OR of the modified values.
    let r = sel(r"
        CommandLine|contains:
            - 'mimikatz'
            - 'sekurlsa'");
    assert!(r.fires(&[("CommandLine", "x mimikatz y")]));
    assert!(r.fires(&[("CommandLine", "x SEKURLSA::logonpasswords")]));
    assert!(!r.fires(&[("CommandLine", "notepad.exe")]));

    // The spec's list of maps: an image ending in example.exe OR a description containing
    // "Test executable".
    let r = sel(r"
        - Image|endswith: '\example.exe'
        - Description|contains: 'Test executable'");
    assert!(r.fires(&[("Image", r"C:\x\example.exe")]));
    assert!(r.fires(&[("Description", "A test executable, really")]));
    assert!(!r.fires(&[("Image", r"C:\x\other.exe"), ("Description", "Other")]));

    // Maps inside a list of maps stay AND.
    let r = sel(r"
        - Image|endswith: '\a.exe'
          CommandLine|contains: ' -x'
        - Image|endswith: '\b.exe'");
    assert!(r.fires(&[("Image", r"C:\a.exe"), ("CommandLine", "a.exe -x")]));
    assert!(!r.fires(&[("Image", r"C:\a.exe"), ("CommandLine", "a.exe -y")]));
    assert!(r.fires(&[("Image", r"C:\b.exe"), ("CommandLine", "b.exe -y")]));
}

// ---------------------------------------------------------------------------------------
// contains, startswith, endswith, all
// ---------------------------------------------------------------------------------------

/// Modifiers appendix: `contains` "Puts `*` wildcards around the values, such that the
/// value is matched anywhere in the field"; `startswith` "The value is expected at the
/// beginning of the field's content"; `endswith` "The value is expected at the end of the
/// field's content".
#[test]
fn contains_startswith_endswith() {
    let r = sel("CommandLine|contains: 'Invoke-Mimikatz'");
    assert!(r.fires(&[("CommandLine", "Invoke-Mimikatz")]));
    assert!(r.fires(&[("CommandLine", "powershell IEX; invoke-mimikatz -DumpCreds")]));
    assert!(r.fires(&[("CommandLine", "xINVOKE-MIMIKATZx")]));
    assert!(!r.fires(&[("CommandLine", "Invoke-Mimi katz")]));
    assert!(!r.fires(&[]));

    let r = sel(r"Image|startswith: 'C:\Users\'");
    assert!(r.fires(&[("Image", r"C:\Users\bob\evil.exe")]));
    assert!(r.fires(&[("Image", r"c:\users\bob\evil.exe")]));
    assert!(!r.fires(&[("Image", r"D:\C:\Users\bob\evil.exe")]));
    assert!(!r.fires(&[("Image", r"C:\Windows\evil.exe")]));

    let r = sel(r"Image|endswith: '\cmd.exe'");
    assert!(r.fires(&[("Image", r"C:\Windows\System32\cmd.exe")]));
    assert!(r.fires(&[("Image", r"C:\WINDOWS\SYSTEM32\CMD.EXE")]));
    assert!(!r.fires(&[("Image", r"C:\Windows\System32\cmd.exe.txt")]));
    assert!(!r.fires(&[("Image", r"C:\Windows\System32\xcmd.exe")]));
}

/// Modifiers appendix, `all`: "Normally, lists of values are linked with *OR* […]. This
/// modifier changes this to *AND*." and "Single item values are not allowed to have an
/// `all` modifier".
#[test]
fn all_links_a_value_list_with_and() {
    let r = sel(r"
        CommandLine|contains|all:
            - ' -nop '
            - ' -w hidden '
            - 'downloadstring'");
    assert!(r.fires(&[(
        "CommandLine",
        "powershell -nop -w hidden -c IEX (New-Object Net.WebClient).DownloadString('x')"
    )]));
    assert!(
        r.fires(&[("CommandLine", "DOWNLOADSTRING -W HIDDEN  -NOP x")]),
        "any order"
    );
    assert!(!r.fires(&[("CommandLine", "powershell -nop -w hidden -c calc")]));
    assert!(!r.fires(&[("CommandLine", "powershell -nop")]));

    // Without `all` the same list is OR.
    let r = sel(r"
        CommandLine|contains:
            - ' -nop '
            - 'downloadstring'");
    assert!(r.fires(&[("CommandLine", "powershell -nop -c calc")]));

    // `all` on a single value is not allowed: the rule is rejected.
    assert!(rejected(
        "selection:\n    CommandLine|contains|all: 'x'\ncondition: selection"
    ));
    assert!(rejected(
        "selection:\n    CommandLine|contains|all:\n        - 'x'\ncondition: selection"
    ));
}

// ---------------------------------------------------------------------------------------
// Wildcards and escaping
// ---------------------------------------------------------------------------------------

/// Rules spec, String Wildcard: "`?` to replace a single mandatory character. `*` to
/// replace an unbounded length wildcard." with the examples `prog?.exe` and
/// `antivirus_V*.exe`.
#[test]
fn wildcards_in_plain_values_and_under_modifiers() {
    let r = sel(r"Image: 'C:\Tools\prog?.exe'");
    assert!(r.fires(&[("Image", r"C:\Tools\progA.exe")]));
    assert!(r.fires(&[("Image", r"c:\tools\PROGB.EXE")]));
    assert!(
        !r.fires(&[("Image", r"C:\Tools\prog.exe")]),
        "? is mandatory"
    );
    assert!(
        !r.fires(&[("Image", r"C:\Tools\progAB.exe")]),
        "? is one character"
    );

    let r = sel(r"Image: '*\antivirus_V*.exe'");
    assert!(r.fires(&[("Image", r"C:\AV\antivirus_V1.exe")]));
    assert!(r.fires(&[("Image", r"C:\AV\antivirus_V21.2.1.exe")]));
    assert!(r.fires(&[("Image", r"\antivirus_V.exe")]), "* may be empty");
    assert!(
        !r.fires(&[("Image", r"C:\AV\antivirus_V1.exe.log")]),
        "still anchored"
    );
    assert!(!r.fires(&[("Image", r"C:\AV\antivirus_X1.exe")]));

    // Wildcards inside contains / startswith / endswith.
    let r = sel("CommandLine|contains: 'evil*tool'");
    assert!(r.fires(&[("CommandLine", "run evil-looking tool now")]));
    assert!(r.fires(&[("CommandLine", "EVILTOOL")]));
    assert!(!r.fires(&[("CommandLine", "tool then evil")]));
    let r = sel("CommandLine|contains: ' -e? '");
    assert!(r.fires(&[("CommandLine", "powershell -ec AAAA")]));
    assert!(!r.fires(&[("CommandLine", "powershell -e AAAA")]));
    // `\\*` is a backslash, then the wildcard (`\*` alone would be a literal `*`).
    let r = sel(r"TargetFilename|startswith: 'C:\Users\\*\AppData\'");
    assert!(r.fires(&[("TargetFilename", r"C:\Users\bob\AppData\Local\x.dll")]));
    assert!(!r.fires(&[("TargetFilename", r"C:\Users\bob\Desktop\x.dll")]));
    assert!(!r.fires(&[("TargetFilename", r"D:\C:\Users\bob\AppData\x.dll")]));
    let r = sel(r"Image|endswith: '\\?sc.exe'");
    assert!(r.fires(&[("Image", r"C:\Windows\wsc.exe")]));
    assert!(!r.fires(&[("Image", r"C:\Windows\sc.exe")]));
}

/// Rules spec, Escaping: "The backslash character `\` is used for escaping of wildcards
/// `*` and `?` as well as the backslash character itself." and its list of cases.
#[test]
fn escaped_wildcards_and_backslashes() {
    // "A wildcard has to be escaped to be handled as a plain character. eg: `\*`, `\?`."
    let r = sel(r"CommandLine: 'a\*b'");
    assert!(r.fires(&[("CommandLine", "a*b")]));
    assert!(!r.fires(&[("CommandLine", "axxb")]));
    assert!(!r.fires(&[("CommandLine", r"a\*b")]));
    let r = sel(r"CommandLine: 'a\?b'");
    assert!(r.fires(&[("CommandLine", "a?b")]));
    assert!(!r.fires(&[("CommandLine", "axb")]));
    let r = sel(r"CommandLine|contains: 'SELECT \* FROM'");
    assert!(r.fires(&[("CommandLine", "wmic: select * from win32_process")]));
    assert!(!r.fires(&[("CommandLine", "wmic: select name from win32_process")]));

    // "Plain backslash not followed by a wildcard can be expressed as single `\` or double
    // backslash `\\`."
    for value in [r"'C:\Windows\x.exe'", r"'C:\\Windows\\x.exe'"] {
        let r = sel(&format!("Image: {value}"));
        assert!(r.fires(&[("Image", r"C:\Windows\x.exe")]), "{value}");
        assert!(!r.fires(&[("Image", r"C:\\Windows\\x.exe")]), "{value}");
    }

    // "The backslash before a wildcard has to be escaped to handle the value as a
    // backslash followed by a wildcard: `\\*`."
    let r = sel(r"Image: 'C:\Temp\\*'");
    assert!(r.fires(&[("Image", r"C:\Temp\x.exe")]));
    assert!(r.fires(&[("Image", r"C:\Temp\")]));
    assert!(!r.fires(&[("Image", r"C:\Tempx.exe")]));

    // "Three backslashes are necessary to escape both, the backslash and the wildcard and
    // handle them as plain values: `\\\*`."
    let r = sel(r"Image: 'C:\Temp\\\*'");
    assert!(r.fires(&[("Image", r"C:\Temp\*")]));
    assert!(!r.fires(&[("Image", r"C:\Temp\x")]));

    // "Three or four backslashes are handled as double backslash. Four is recommended for
    // consistency reasons: `\\\\` results in the plain value `\\`."
    for value in [r"'\\\\server\share'", r"'\\\server\share'"] {
        let r = sel(&format!("ShareName: {value}"));
        assert!(r.fires(&[("ShareName", r"\\server\share")]), "{value}");
        assert!(!r.fires(&[("ShareName", r"\server\share")]), "{value}");
    }
}

// ---------------------------------------------------------------------------------------
// Regular expressions
// ---------------------------------------------------------------------------------------

/// Modifiers appendix, `re`: "Regex is matched case-sensitive by default." Sub-modifiers:
/// "`i`: (insensitive) to enable case-insensitive matching", "`m`: (multi line) to match
/// across multiple lines. `^` /`$` match the start/end of line", "`s`: (single line) to
/// enable that dot (`.`) matches all characters, including the newline character."
/// A regular expression searches the value; it only anchors where the pattern does.
#[test]
fn re_and_its_flags() {
    let r = sel(r"CommandLine|re: 'evil\d+'");
    assert!(
        r.fires(&[("CommandLine", "run evil42 now")]),
        "unanchored search"
    );
    assert!(!r.fires(&[("CommandLine", "run evil now")]));
    assert!(
        !r.fires(&[("CommandLine", "run EVIL42 now")]),
        "case-sensitive by default"
    );

    let r = sel(r"CommandLine|re: '^evil'");
    assert!(r.fires(&[("CommandLine", "evil first")]));
    assert!(!r.fires(&[("CommandLine", "not evil first")]));
    let r = sel(r"CommandLine|re: 'exe$'");
    assert!(r.fires(&[("CommandLine", "a.exe")]));
    assert!(!r.fires(&[("CommandLine", "a.exe -x")]));

    let r = sel(r"CommandLine|re|i: 'EVIL\d+'");
    assert!(r.fires(&[("CommandLine", "run evil42 now")]));
    assert!(r.fires(&[("CommandLine", "run EvIl42 now")]));

    let text = "first line\nsecond line\nthird";
    assert!(!fires(
        "selection:\n    ScriptBlockText|re: '^second'\ncondition: selection",
        &[("ScriptBlockText", text)]
    ));
    let r = sel(r"ScriptBlockText|re|m: '^second line$'");
    assert!(r.fires(&[("ScriptBlockText", text)]));
    assert!(!r.fires(&[("ScriptBlockText", "first second line")]));

    let r = sel(r"ScriptBlockText|re: 'line.second'");
    assert!(
        !r.fires(&[("ScriptBlockText", text)]),
        ". excludes newline without s"
    );
    let r = sel(r"ScriptBlockText|re|s: 'line.second'");
    assert!(r.fires(&[("ScriptBlockText", text)]));

    let r = sel(r"ScriptBlockText|re|i|m: '^SECOND'");
    assert!(r.fires(&[("ScriptBlockText", text)]));

    // Regex values are regular expressions, not Sigma strings: `*`, `?` and `\` keep their
    // regex meaning.
    let r = sel(r"Image|re: '^C:\\Windows\\[a-z]+?\.exe$'");
    assert!(r.fires(&[("Image", r"C:\Windows\notepad.exe")]));
    assert!(!r.fires(&[("Image", r"C:\Windows\System32\notepad.exe")]));
    let r = sel(r"CommandLine|re: 'ab*c'");
    assert!(r.fires(&[("CommandLine", "xacx")]));
    assert!(r.fires(&[("CommandLine", "xabbbcx")]));
    assert!(
        !r.fires(&[("CommandLine", "ab*c")]),
        "* is a quantifier, not a wildcard"
    );

    // A list of expressions is OR.
    let r = sel(r"
        CommandLine|re:
            - 'foo[0-9]'
            - 'bar[a-z]'");
    assert!(r.fires(&[("CommandLine", "foo7")]));
    assert!(r.fires(&[("CommandLine", "barx")]));
    assert!(!r.fires(&[("CommandLine", "fooX bar7")]));
}

// ---------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------

/// Modifiers appendix, `base64`: "The value is encoded with Base64."
#[test]
fn base64() {
    let r = sel("CommandLine|base64: 'whoami'");
    assert!(r.fires(&[("CommandLine", "d2hvYW1p")]));
    assert!(!r.fires(&[("CommandLine", "whoami")]));
    assert!(
        !r.fires(&[("CommandLine", "powershell -e d2hvYW1p")]),
        "no contains"
    );

    // As SigmaHQ uses it (CVE-2025-53770 indicators): `base64|contains`.
    let r = sel("CommandLine|base64|contains: 'spinstall0.aspx'");
    let blob = b64(b"spinstall0.aspx?x=1");
    assert!(r.fires(&[("CommandLine", &format!("powershell -e {blob}"))]));
    assert!(!r.fires(&[(
        "CommandLine",
        &format!("powershell -e {}", b64(b"spinstall1.aspx?x=1"))
    )]));
    assert!(!r.fires(&[("CommandLine", "spinstall0.aspx")]));
}

/// Modifiers appendix, `base64offset`: "If a value might appear somewhere in a
/// base64-encoded string the representation might change depending on the position of the
/// value in the overall string. There are three variants for shifts by zero to two bytes".
#[test]
fn base64offset_finds_all_three_alignments() {
    let r = sel("CommandLine|base64offset|contains: 'Invoke-Mimikatz'");
    // The value closing the encoded text, after 0, 1 and 2 bytes (and 3, 4, 5: the same
    // three alignments again).
    for prefix in ["", "a", "ab", "abc", "abcd", "abcde"] {
        let blob = b64(format!("{prefix}Invoke-Mimikatz").as_bytes());
        assert!(
            r.fires(&[("CommandLine", &format!("powershell -enc {blob}"))]),
            "offset {}: {blob}",
            prefix.len()
        );
    }
    // Inside a longer text, at the one alignment where the value ends on a base64 group
    // boundary ("Invoke-Mimikatz" has 15 bytes, a multiple of 3).
    let blob = b64(b"Invoke-Mimikatz -DumpCreds");
    assert!(r.fires(&[("CommandLine", &blob)]));

    for other in ["Invoke-Mimikittens", "Invoke-Expression"] {
        for prefix in ["", "a", "ab"] {
            let blob = b64(format!("{prefix}{other}").as_bytes());
            assert!(!r.fires(&[("CommandLine", &blob)]), "{prefix}{other}");
        }
    }
    assert!(
        !r.fires(&[("CommandLine", "Invoke-Mimikatz")]),
        "not encoded"
    );
}

/// Modifiers appendix: "`utf16le`: Transforms value to UTF16-LE encoding", "`utf16be`:
/// Transforms value to UTF16-BE encoding", "`utf16`: Prepends a byte order mark and
/// encodes UTF16", "`wide`: an alias for the `utf16le` modifier". Used as SigmaHQ does,
/// before `base64offset|contains` (PowerShell's -EncodedCommand is base64 of UTF-16LE).
#[test]
fn utf16_encodings_with_base64offset() {
    // From SigmaHQ's proc_creation_win_exploit_cve_2025_53770_indicators.yml.
    for modifier in ["wide", "utf16le"] {
        let r = sel(&format!(
            "CommandLine|{modifier}|base64offset|contains: 'spinstall0.aspx'"
        ));
        // k UTF-16 code units before the value are 2k bytes: alignments 0, 2 and 1.
        for prefix in ["", "a", "ab"] {
            let blob = b64(&utf16le(&format!("{prefix}spinstall0.aspx")));
            assert!(
                r.fires(&[("CommandLine", &format!("powershell -EncodedCommand {blob}"))]),
                "{modifier}, {} bytes before: {blob}",
                2 * prefix.len()
            );
            let utf8 = b64(format!("{prefix}spinstall0.aspx").as_bytes());
            assert!(
                !r.fires(&[("CommandLine", &utf8)]),
                "{modifier}: UTF-8 is not UTF-16"
            );
        }
        let other = b64(&utf16le("spinstall1.aspx"));
        assert!(!r.fires(&[("CommandLine", &other)]));
    }

    let r = sel("CommandLine|utf16be|base64offset|contains: 'spinstall0.aspx'");
    for prefix in ["", "a", "ab"] {
        let blob = b64(&utf16be(&format!("{prefix}spinstall0.aspx")));
        assert!(
            r.fires(&[("CommandLine", &blob)]),
            "utf16be after {prefix:?}"
        );
        let utf8 = b64(format!("{prefix}spinstall0.aspx").as_bytes());
        assert!(!r.fires(&[("CommandLine", &utf8)]), "UTF-8 is not UTF-16");
    }

    // `utf16`: byte order mark FF FE, then UTF-16LE ("cmd" > FF FE 63 00 6d 00 64 00).
    let r = sel("CommandLine|utf16|base64: 'cmd'");
    let mut bom = vec![0xff, 0xfe];
    bom.extend(utf16le("cmd"));
    assert!(r.fires(&[("CommandLine", &b64(&bom))]));
    assert!(
        !r.fires(&[("CommandLine", &b64(&utf16le("cmd")))]),
        "BOM required"
    );

    // `wide|base64`: plain base64 of the UTF-16LE bytes.
    let r = sel("CommandLine|wide|base64: 'cmd'");
    assert!(r.fires(&[("CommandLine", &b64(&utf16le("cmd")))]));
    assert!(!r.fires(&[("CommandLine", &b64(b"cmd"))]));
}

/// Modifiers appendix, `windash`: "Creates all possible permutations of the `-`, `/`, `–`
/// (en dash), `—` (em dash), and `―` (horizontal bar) characters."
#[test]
fn windash_makes_every_dash_variant_match() {
    let r = sel("CommandLine|windash|contains: ' -enc '");
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        let line = format!("powershell {dash}enc AAAA");
        assert!(r.fires(&[("CommandLine", &line)]), "{line}");
        let upper = format!("POWERSHELL {dash}ENC AAAA");
        assert!(r.fires(&[("CommandLine", &upper)]), "{upper}");
    }
    assert!(!r.fires(&[("CommandLine", "powershell enc AAAA")]));
    assert!(!r.fires(&[("CommandLine", "powershell +enc AAAA")]));
    assert!(!r.fires(&[("CommandLine", "powershell \\enc AAAA")]));

    // Every dash independently: all permutations.
    let r = sel("CommandLine|windash|contains: ' -s -f '");
    for line in [
        "shutdown -s -f -t 0",
        "shutdown /s /f /t 0",
        "shutdown /s -f -t 0",
        "shutdown -s \u{2014}f -t 0",
        "shutdown \u{2015}s \u{2013}f -t 0",
    ] {
        assert!(r.fires(&[("CommandLine", line)]), "{line}");
    }
    assert!(!r.fires(&[("CommandLine", "shutdown -s -r -t 0")]));

    // Without contains, windash keeps an exact match.
    let r = sel("CommandLine|windash: '-h'");
    assert!(r.fires(&[("CommandLine", "/h")]));
    assert!(!r.fires(&[("CommandLine", "x /h")]));
}

// ---------------------------------------------------------------------------------------
// IP, numbers, case
// ---------------------------------------------------------------------------------------

/// Modifiers appendix, `cidr`: "The value is handled as an CIDR by backends. Supports both
/// IPv4 and IPv6 notations."
#[test]
fn cidr_v4_and_v6() {
    let r = sel("DestinationIp|cidr: 10.0.0.0/8");
    assert!(r.fires(&[("DestinationIp", "10.1.2.3")]));
    assert!(r.fires(&[("DestinationIp", "10.255.255.255")]));
    assert!(!r.fires(&[("DestinationIp", "11.0.0.1")]));
    assert!(!r.fires(&[("DestinationIp", "9.255.255.255")]));
    // A value that is not an IP address does not match.
    assert!(!r.fires(&[("DestinationIp", "not-an-ip")]));
    assert!(!r.fires(&[("DestinationIp", "10.0.0.0/8")]));
    assert!(!r.fires(&[("DestinationIp", "10.1.2.3.evil.example")]));
    assert!(!r.fires(&[("DestinationIp", "")]));
    assert!(!r.fires(&[]));
    // Haechi's typed IP values.
    let ip = |s: &str| Value::Ip(s.parse().unwrap());
    assert!(r.fires_typed(&[("DestinationIp", ip("10.9.8.7"))]));
    assert!(!r.fires_typed(&[("DestinationIp", ip("192.168.1.1"))]));

    let r = sel("DestinationIp|cidr: 192.168.1.16/28");
    assert!(r.fires(&[("DestinationIp", "192.168.1.16")]));
    assert!(r.fires(&[("DestinationIp", "192.168.1.31")]));
    assert!(!r.fires(&[("DestinationIp", "192.168.1.32")]));

    let r = sel("DestinationIp|cidr: '2001:db8::/32'");
    assert!(r.fires(&[("DestinationIp", "2001:db8:1::5")]));
    assert!(r.fires(&[("DestinationIp", "2001:DB8::1")]));
    assert!(r.fires_typed(&[("DestinationIp", ip("2001:db8:ffff::1"))]));
    assert!(!r.fires(&[("DestinationIp", "2001:db9::1")]));
    assert!(!r.fires(&[("DestinationIp", "10.0.0.1")]));
    assert!(!r.fires(&[("DestinationIp", "not-an-ip")]));

    // A list of networks is OR (the SigmaHQ private-range filters).
    let r = sel(r"
        DestinationIp|cidr:
            - '127.0.0.0/8'
            - '172.16.0.0/12'
            - 'fe80::/10'");
    assert!(r.fires(&[("DestinationIp", "172.31.0.1")]));
    assert!(r.fires(&[("DestinationIp", "fe80::1")]));
    assert!(!r.fires(&[("DestinationIp", "172.32.0.1")]));
}

/// Modifiers appendix: "`lt`: Field is less than the value", "`lte`: Field is less or
/// equal than the value", "`gt`: Field is greater than the value", "`gte`: Field is
/// greater or equal than the value" (numeric modifiers: numbers compare as numbers, so
/// the text "10" is greater than 9).
#[test]
fn numeric_comparisons() {
    let gt = sel("Count|gt: 9");
    let gte = sel("Count|gte: 10");
    let lt = sel("Count|lt: 9");
    let lte = sel("Count|lte: 10");
    // Strings that read as numbers compare numerically, not lexically ('10' < '9').
    assert!(gt.fires(&[("Count", "10")]));
    assert!(!lt.fires(&[("Count", "10")]));
    assert!(!gt.fires(&[("Count", "9")]));
    assert!(gte.fires(&[("Count", "10")]));
    assert!(!gte.fires(&[("Count", "9")]));
    assert!(lte.fires(&[("Count", "10")]));
    assert!(!lte.fires(&[("Count", "11")]));
    assert!(lt.fires(&[("Count", "8")]));
    assert!(lt.fires(&[("Count", "-100")]));
    assert!(gt.fires(&[("Count", "100")]));
    assert!(gt.fires(&[("Count", "9.5")]));
    // Typed numbers.
    assert!(gt.fires_typed(&[("Count", Value::Int(10))]));
    assert!(!gt.fires_typed(&[("Count", Value::Int(9))]));
    assert!(lt.fires_typed(&[("Count", Value::Float(8.99))]));
    assert!(lte.fires_typed(&[("Count", Value::Float(10.0))]));
    // Not a number, or no field: no match either way.
    for r in [&gt, &gte, &lt, &lte] {
        assert!(!r.fires(&[("Count", "ten")]));
        assert!(!r.fires(&[("Count", "")]));
        assert!(!r.fires(&[]));
    }
    // A quoted number in the rule is still a number; floats work.
    let r = sel("Count|gt: '9'");
    assert!(r.fires(&[("Count", "10")]));
    let r = sel("Ratio|lt: 0.5");
    assert!(r.fires(&[("Ratio", "0.25")]));
    assert!(!r.fires(&[("Ratio", "0.75")]));
}

/// Modifiers appendix, `cased`: "Values are applied case sensitively."
#[test]
fn cased() {
    let r = sel("CommandLine|cased: 'Invoke-Mimikatz'");
    assert!(r.fires(&[("CommandLine", "Invoke-Mimikatz")]));
    assert!(!r.fires(&[("CommandLine", "invoke-mimikatz")]));
    assert!(
        !r.fires(&[("CommandLine", "x Invoke-Mimikatz")]),
        "still exact"
    );

    let r = sel("CommandLine|contains|cased: 'SeDebugPrivilege'");
    assert!(r.fires(&[("CommandLine", "x SeDebugPrivilege y")]));
    assert!(!r.fires(&[("CommandLine", "x sedebugprivilege y")]));
    let r = sel("CommandLine|startswith|cased: 'Get-'");
    assert!(r.fires(&[("CommandLine", "Get-Process")]));
    assert!(!r.fires(&[("CommandLine", "get-process")]));
    let r = sel("CommandLine|endswith|cased: '.PS1'");
    assert!(r.fires(&[("CommandLine", "a.PS1")]));
    assert!(!r.fires(&[("CommandLine", "a.ps1")]));
    let r = sel("CommandLine|cased: 'Ev?l*'");
    assert!(r.fires(&[("CommandLine", "Evil thing")]));
    assert!(!r.fires(&[("CommandLine", "EVIL thing")]));
    // A list stays OR.
    let r = sel(r"
        CommandLine|contains|cased:
            - 'AAA'
            - 'bbb'");
    assert!(r.fires(&[("CommandLine", "xbbbx")]));
    assert!(!r.fires(&[("CommandLine", "xaaax")]));
}

/// Modifiers appendix, `neq`: "The field is different from the specified values. It's can
/// be used with string or number."
#[test]
fn neq() {
    let r = sel("User|neq: 'SYSTEM'");
    assert!(r.fires(&[("User", "bob")]));
    assert!(!r.fires(&[("User", "SYSTEM")]));
    assert!(
        !r.fires(&[("User", "system")]),
        "case-insensitive by default"
    );
    let r = sel(r"
        User|neq:
            - 'SYSTEM'
            - 'LOCAL SERVICE'");
    assert!(r.fires(&[("User", "bob")]));
    assert!(!r.fires(&[("User", "SYSTEM")]));
    assert!(!r.fires(&[("User", "Local Service")]));
    let r = sel("LogonType|neq: 3");
    assert!(r.fires(&[("LogonType", "10")]));
    assert!(!r.fires(&[("LogonType", "3")]));
    assert!(!r.fires_typed(&[("LogonType", Value::Int(3))]));
}

/// Modifiers appendix, Time Modifiers: "it extracts a numeric value from a date":
/// `minute` 0–59, `hour` 0–23, `day` 1–31, `week` 1–52, `month` 1–12, `year`.
#[test]
fn time_parts() {
    let at = [("UtcTime", "2024-05-06T03:04:05Z")];
    for (item, expected) in [
        ("UtcTime|minute: 4", true),
        ("UtcTime|minute: 5", false),
        ("UtcTime|hour: 3", true),
        ("UtcTime|hour: 4", false),
        ("UtcTime|day: 6", true),
        ("UtcTime|day: 5", false),
        ("UtcTime|week: 19", true),
        ("UtcTime|week: 18", false),
        ("UtcTime|month: 5", true),
        ("UtcTime|month: 6", false),
        ("UtcTime|year: 2024", true),
        ("UtcTime|year: 2023", false),
    ] {
        assert_eq!(sel(item).fires(&at), expected, "{item}");
    }
    // Hours outside office hours, as a value list (OR).
    let r = sel("UtcTime|hour: [0, 1, 2, 3, 4, 5]");
    assert!(r.fires(&at));
    assert!(!r.fires(&[("UtcTime", "2024-05-06T13:04:05Z")]));
    assert!(!r.fires(&[("UtcTime", "not a date")]));
}

// ---------------------------------------------------------------------------------------
// Existence, null, empty, field references, placeholders
// ---------------------------------------------------------------------------------------

/// Modifiers appendix, `exists`: "Defines that a certain field has to exist or must not
/// exist in a log event by providing a boolean value. Note that this check only verifies
/// the presence of a field, not its value, be it empty or null."
#[test]
fn exists_true_and_false() {
    let r = sel("PasswordLastSet|exists: true");
    assert!(r.fires(&[("PasswordLastSet", "2024-01-01")]));
    assert!(
        r.fires(&[("PasswordLastSet", "")]),
        "an empty value is present"
    );
    assert!(r.fires_typed(&[("PasswordLastSet", Value::Int(0))]));
    assert!(!r.fires(&[]));
    assert!(!r.fires(&[("PasswordLastSetX", "x")]));

    let r = sel("PasswordLastSet|exists: false");
    assert!(r.fires(&[]));
    assert!(r.fires(&[("Other", "x")]));
    assert!(!r.fires(&[("PasswordLastSet", "2024-01-01")]));
    assert!(!r.fires(&[("PasswordLastSet", "")]));

    // The spec's example: in a map with other items.
    let r = sel(r"
        EventID: 1
        PasswordLastSet|exists: true");
    assert!(r.fires(&[("PasswordLastSet", "x")]));
    assert!(!r.fires(&[]));
}

/// Rules spec, Special Field Values: "An empty value is defined with `''`", "A null value
/// is defined with `null`", and the `selection and not filter` example with
/// `PasswordLastSet: null`. Haechi's events have no null value (a JSON null is dropped at
/// ingestion), so null is an absent field here; it is distinct from the empty string.
#[test]
fn null_empty_and_missing_are_distinct() {
    let null = sel("PasswordLastSet: null");
    assert!(null.fires(&[]), "absent field is null");
    assert!(!null.fires(&[("PasswordLastSet", "")]), "empty is not null");
    assert!(!null.fires(&[("PasswordLastSet", "2024-01-01")]));

    let empty = sel("PasswordLastSet: ''");
    assert!(empty.fires(&[("PasswordLastSet", "")]));
    assert!(!empty.fires(&[]), "absent is not empty");
    assert!(!empty.fires(&[("PasswordLastSet", "2024-01-01")]));

    // The spec's example (with the Sysmon event id).
    let r = rule(
        r"
        selection:
            EventID: 1
        filter:
            PasswordLastSet: null
        condition: selection and not filter",
    );
    assert!(r.fires(&[("PasswordLastSet", "2024-01-01")]));
    assert!(r.fires(&[("PasswordLastSet", "")]));
    assert!(!r.fires(&[]));

    // (`null` inside a value list, `[null, 'x']`, is a reported deviation: an absent field
    // does not match it.)
}

/// Modifiers appendix, `fieldref`: "Modifies a plain string into a field reference. A
/// field reference can be used to compare fields of matched events directly at
/// query/matching time." (SigmaHQ: `TargetFilename|fieldref: Image`, a process deleting
/// its own image.) Values compare case-insensitively, Sigma's default.
#[test]
fn fieldref_compares_two_fields() {
    let r = sel("TargetFilename|fieldref: Image");
    assert!(r.fires(&[("TargetFilename", r"C:\x\a.exe"), ("Image", r"C:\x\a.exe")]));
    assert!(r.fires(&[("TargetFilename", r"C:\X\A.EXE"), ("Image", r"c:\x\a.exe")]));
    assert!(!r.fires(&[("TargetFilename", r"C:\x\b.exe"), ("Image", r"C:\x\a.exe")]));
    assert!(
        !r.fires(&[("TargetFilename", r"C:\x\a.exe")]),
        "referenced field absent"
    );
    assert!(!r.fires(&[("Image", r"C:\x\a.exe")]), "field absent");
    assert!(!r.fires(&[]));
    // The value is a field name, not a pattern: `Image` is not compared as text.
    assert!(!r.fires(&[("TargetFilename", "Image"), ("Image", r"C:\x\a.exe")]));

    // Combined with a condition, as SigmaHQ's cross-user spawn rule does.
    let r = rule(
        r"
        selection:
            User|fieldref: ParentUser
        condition: not selection",
    );
    assert!(r.fires(&[("User", "alice"), ("ParentUser", "bob")]));
    assert!(!r.fires(&[("User", "alice"), ("ParentUser", "ALICE")]));
}

/// Rules spec, Placeholders: "From Sigma 1.1 placeholders are only handled if the *expand*
/// modifier is applied to the value containing the placeholder": "`field: %name%` handles
/// `%name%` as literal value", and "Placeholders must be handled appropriately by a tool
/// that uses Sigma rules. If the tool isn't able to handle placeholders, it must reject
/// the rule."
///
/// rsigma resolves placeholders with a processing pipeline (a `value_placeholders`
/// transformation with `vars:`, installed by `Engine::new_with_pipeline` or
/// `Engine::add_pipeline`); `Detector::new` installs none. Without a pipeline rsigma would
/// accept the rule and, at match time, replace `%name%` with the value of the event's own
/// field `name`, the empty string when absent (so `CommandLine|contains|expand:
/// '%userdomain%'` would fire on every command line). Haechi has no placeholder values, so
/// `load_rules` rejects every `|expand` rule, as the specification requires.
#[test]
fn placeholders_are_literal_without_expand_and_rejected_with_it() {
    let r = sel("WorkstationName: '%Workstations%'");
    assert!(r.fires(&[("WorkstationName", "%Workstations%")]));
    assert!(r.fires(&[("WorkstationName", "%workstations%")]));
    assert!(!r.fires(&[("WorkstationName", "PC01")]));
    assert!(!r.fires(&[("WorkstationName", "PC01"), ("Workstations", "PC01")]));

    let r = sel("CommandLine|contains: '%userdomain%'");
    assert!(r.fires(&[("CommandLine", "echo %userdomain%")]));
    assert!(!r.fires(&[("CommandLine", "echo CORP")]));

    // With `expand`, and no value configured for the placeholder: rejected, with the reason.
    for item in [
        "WorkstationName|expand: '%Workstations%'",
        "CommandLine|contains|expand: '%userdomain%'",
        "TargetUserName|expand:\n        - '%dc_machine_accounts%'\n        - 'x'",
    ] {
        let reason = compile(&format!("selection:\n    {item}\ncondition: selection"))
            .err()
            .unwrap_or_else(|| panic!("accepted: {item}"));
        assert!(reason.contains("placeholder"), "{item}: {reason}");
    }
    // Also when the placeholder hides in one selection of a list of maps.
    assert!(rejected(
        "selection:\n    - Image|endswith: '\\x.exe'\n    - User|expand: '%Administrators%'\ncondition: selection"
    ));
}

// ---------------------------------------------------------------------------------------
// Keywords
// ---------------------------------------------------------------------------------------

/// Rules spec, Keywords search: "It's a matter of searching for keywords across an entire
/// event. They are built by using a list under a search-identifiers." with the list being
/// OR ("event::clear" **or** "event::drop"), and Lists: "strings that are applied to the
/// full log message and are linked with a logical 'OR'".
#[test]
fn keyword_selections() {
    let r = rule(
        r"
        mimikatz_keywords:
            - 'event::clear'
            - 'event::drop'
        condition: mimikatz_keywords",
    );
    assert!(r.fires(&[("CommandLine", "mimikatz # event::clear")]));
    assert!(
        r.fires(&[("ParentCommandLine", "x EVENT::DROP y")]),
        "any field, any case"
    );
    assert!(r.fires(&[("Other", "ok"), ("Details", "event::drop")]));
    assert!(!r.fires(&[("CommandLine", "event:clear")]));
    assert!(!r.fires(&[]));

    // A keyword is a substring; wildcards work inside it.
    let r = rule(
        r"
        keywords:
            - 'invoke-*katz'
        condition: keywords",
    );
    assert!(r.fires(&[("CommandLine", "powershell Invoke-Mimikatz -x")]));
    assert!(!r.fires(&[("CommandLine", "powershell Invoke-Expression")]));

    // A single keyword string (not a list).
    let r = rule("keywords: 'sekurlsa'\ncondition: keywords");
    assert!(r.fires(&[("CommandLine", "x sekurlsa::logonpasswords")]));
    assert!(!r.fires(&[("CommandLine", "x")]));

    // (The spec's `'|all':` keyword form, "OabVirtualDirectory" **and** " -ExternalUrl ",
    // is a reported deviation: rsigma compiles it to exact matches, so it never fires.)

    // Keywords combine with field selections in a condition.
    let r = rule(
        r"
        selection:
            Image|endswith: '\powershell.exe'
        keywords:
            - 'bypass'
        condition: selection and keywords",
    );
    assert!(r.fires(&[
        ("Image", r"C:\powershell.exe"),
        ("CommandLine", "-ep bypass")
    ]));
    assert!(!r.fires(&[("Image", r"C:\cmd.exe"), ("CommandLine", "-ep bypass")]));
    assert!(!r.fires(&[("Image", r"C:\powershell.exe"), ("CommandLine", "-ep x")]));
}

// ---------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------

/// A rule with four selections on four fields (`A`, `B`, `C`, `D` equal to "x") and the
/// given condition.
fn abcd(condition: &str) -> Rule {
    rule(&format!(
        "a:\n    A: x\nb:\n    B: x\nc:\n    C: x\nd:\n    D: x\ncondition: {condition}"
    ))
}

/// Fields for the selections that hold: "ac" → A and C are "x".
fn holding(which: &str) -> Vec<(&'static str, &'static str)> {
    [("A", 'a'), ("B", 'b'), ("C", 'c'), ("D", 'd')]
        .into_iter()
        .filter(|(_, c)| which.contains(*c))
        .map(|(f, _)| (f, "x"))
        .collect()
}

/// The truth table of a condition over selections a, b, c (d never holds).
fn truth(condition: &str) -> Vec<bool> {
    let r = abcd(condition);
    ["", "a", "b", "ab", "c", "ac", "bc", "abc"]
        .iter()
        .map(|w| r.fires(&holding(w)))
        .collect()
}

/// Rules spec, Condition: "Logical AND/OR", "Negation with 'not'", "Brackets".
#[test]
fn condition_and_or_not_and_brackets() {
    let r = abcd("a and b");
    assert!(r.fires(&holding("ab")));
    assert!(!r.fires(&holding("a")));
    assert!(!r.fires(&holding("b")));
    let r = abcd("a or b");
    assert!(r.fires(&holding("a")));
    assert!(r.fires(&holding("b")));
    assert!(!r.fires(&holding("c")));
    let r = abcd("a and not b");
    assert!(r.fires(&holding("a")));
    assert!(!r.fires(&holding("ab")));
    assert!(!r.fires(&holding("")));
    let r = abcd("not a");
    assert!(r.fires(&holding("")));
    assert!(!r.fires(&holding("a")));
    let r = abcd("not not a");
    assert!(r.fires(&holding("a")));
    assert!(!r.fires(&holding("b")));

    // "selection1 and (keywords1 or keywords2)"
    let r = abcd("a and (b or c)");
    assert!(r.fires(&holding("ab")));
    assert!(r.fires(&holding("ac")));
    assert!(!r.fires(&holding("a")));
    assert!(!r.fires(&holding("bc")));
    // Nested brackets and negated groups.
    let r = abcd("(a or b) and not (c or d)");
    assert!(r.fires(&holding("a")));
    assert!(r.fires(&holding("b")));
    assert!(!r.fires(&holding("ac")));
    assert!(!r.fires(&holding("")));
    let r = abcd("((a))");
    assert!(r.fires(&holding("a")));
}

/// Rules spec, Condition: "Operator Precedence (least to most binding): or, and, not,
/// x of search-identifier, ( expression )".
#[test]
fn condition_precedence() {
    // Truth tables indexed by ["", a, b, ab, c, ac, bc, abc].
    let table = |f: fn(bool, bool, bool) -> bool| -> Vec<bool> {
        [
            (0, 0, 0),
            (1, 0, 0),
            (0, 1, 0),
            (1, 1, 0),
            (0, 0, 1),
            (1, 0, 1),
            (0, 1, 1),
            (1, 1, 1),
        ]
        .iter()
        .map(|&(a, b, c)| f(a == 1, b == 1, c == 1))
        .collect()
    };
    // and binds tighter than or, on either side.
    assert_eq!(truth("a or b and c"), table(|a, b, c| a || (b && c)));
    assert_eq!(truth("a and b or c"), table(|a, b, c| (a && b) || c));
    // not binds tighter than and / or.
    assert_eq!(truth("not a and b"), table(|a, b, _| !a && b));
    assert_eq!(truth("not a or b"), table(|a, b, _| !a || b));
    assert_eq!(truth("a or not b and c"), table(|a, b, c| a || (!b && c)));
    // Brackets override.
    assert_eq!(truth("(a or b) and c"), table(|a, b, c| (a || b) && c));
    assert_eq!(truth("not (a and b)"), table(|a, b, _| !(a && b)));
    // Left to right with equal operators.
    assert_eq!(truth("a or b or c"), table(|a, b, c| a || b || c));
    assert_eq!(truth("a and b and c"), table(|a, b, c| a && b && c));
}

/// A rule with selections `selection_a` (A), `selection_b` (B), `filter_c` (C),
/// `filter_d` (D) and `_hidden` (H), each "x".
fn patterned(condition: &str) -> Rule {
    rule(&format!(
        "selection_a:\n    A: x\nselection_b:\n    B: x\nfilter_c:\n    C: x\n\
         filter_d:\n    D: x\n_hidden:\n    H: x\ncondition: {condition}"
    ))
}

fn set(fields: &str) -> Vec<(&'static str, &'static str)> {
    [("A", 'a'), ("B", 'b'), ("C", 'c'), ("D", 'd'), ("H", 'h')]
        .into_iter()
        .filter(|(_, c)| fields.contains(*c))
        .map(|(f, _)| (f, "x"))
        .collect()
}

/// Rules spec, Condition: "1/all of search-identifier-pattern […] Matching is done with *
/// wildcards (any number of characters) at arbitrary positions in the pattern", with the
/// examples `all of selection*`, `1 of selection* and keywords`, `1 of selection* and not
/// 1 of filter*`.
#[test]
fn condition_x_of_pattern() {
    let r = patterned("1 of selection_*");
    assert!(r.fires(&set("a")));
    assert!(r.fires(&set("b")));
    assert!(r.fires(&set("ab")));
    assert!(!r.fires(&set("cdh")));

    let r = patterned("all of selection_*");
    assert!(r.fires(&set("ab")));
    assert!(!r.fires(&set("a")));
    assert!(!r.fires(&set("b")));

    let r = patterned("1 of selection_* and not 1 of filter_*");
    assert!(r.fires(&set("a")));
    assert!(r.fires(&set("bh")));
    assert!(!r.fires(&set("ac")));
    assert!(!r.fires(&set("bd")));
    assert!(!r.fires(&set("c")));

    // "not 1 of filter_*" is "not (1 of filter_*)": one filter is enough to suppress.
    let r = patterned("not 1 of filter_*");
    assert!(r.fires(&set("")));
    assert!(!r.fires(&set("c")));
    assert!(!r.fires(&set("d")));
    let r = patterned("not all of filter_*");
    assert!(r.fires(&set("c")));
    assert!(!r.fires(&set("cd")));

    // Patterns without the underscore, and with the wildcard elsewhere.
    let r = patterned("all of selection*");
    assert!(r.fires(&set("ab")));
    assert!(!r.fires(&set("a")));
    let r = patterned("1 of *_c");
    assert!(r.fires(&set("c")));
    assert!(!r.fires(&set("abd")));
    let r = patterned("1 of sel*_b");
    assert!(r.fires(&set("b")));
    assert!(!r.fires(&set("a")));

    // "x of" binds tighter than and/or.
    let r = patterned("1 of filter_* or all of selection_* and 1 of _hid*");
    assert!(r.fires(&set("c")));
    assert!(r.fires(&set("abh")));
    assert!(!r.fires(&set("ab")));
}

/// Rules spec, Condition: "1/all of them: Logical OR (`1 of them`) or AND (`all of them`)
/// across all defined search identifiers not starting with an underscore `_`."
#[test]
fn condition_them() {
    let r = patterned("1 of them");
    for one in ["a", "b", "c", "d"] {
        assert!(r.fires(&set(one)), "{one}");
    }
    assert!(!r.fires(&set("")));
    assert!(!r.fires(&set("h")), "_hidden is not one of them");

    let r = patterned("all of them");
    assert!(r.fires(&set("abcd")), "_hidden is not required");
    assert!(r.fires(&set("abcdh")));
    assert!(!r.fires(&set("abc")));
    assert!(!r.fires(&set("bcdh")));

    let r = patterned("not 1 of them");
    assert!(r.fires(&set("h")));
    assert!(!r.fires(&set("a")));
}

/// Rules spec, Condition: "The condition can be a list, in this case, each of them
/// generates a query They are logically linked with OR."
#[test]
fn condition_list_is_or() {
    let r = rule(
        r"
        a:
            A: x
        b:
            B: x
        c:
            C: x
        condition:
            - a and b
            - c",
    );
    assert!(r.fires(&holding("ab")));
    assert!(r.fires(&holding("c")));
    assert!(!r.fires(&holding("a")));
    assert!(!r.fires(&holding("b")));
}

// ---------------------------------------------------------------------------------------
// Haechi's glue: logsource and field resolution
// ---------------------------------------------------------------------------------------

/// Rules spec, LogSource: "This section describes the log data on which the detection is
/// meant to be applied to." Haechi derives the event's logsource from its channel and
/// event id, and resolves rule field names to the stored EVTX paths.
#[test]
fn logsource_and_field_resolution() {
    let r = sel(r"Image|endswith: '\whoami.exe'");
    let image = [("Image", Value::from(r"C:\Windows\System32\whoami.exe"))];
    assert!(r.fires_typed(&image));

    // Sysmon 3 is network_connection, not process_creation.
    let mut net = Event::new(Timestamp(0), Arc::from("test"), 3);
    net.push("winlog.channel", SYSMON);
    net.push("event.code", "3");
    net.push("Event.EventData.Image", r"C:\Windows\System32\whoami.exe");
    assert!(!r.fires_on(&net));

    // Security 4688 is process_creation under Security's field names.
    let mut sec = Event::new(Timestamp(0), Arc::from("test"), 3);
    sec.push("winlog.channel", "Security");
    sec.push("event.code", "4688");
    sec.push(
        "Event.EventData.NewProcessName",
        r"C:\Windows\System32\whoami.exe",
    );
    assert!(r.fires_on(&sec));

    // Fields stored under the rule's own name, and EventData names with spaces.
    let mut own = Event::new(Timestamp(0), Arc::from("test"), 3);
    own.push("winlog.channel", SYSMON);
    own.push("event.code", "1");
    own.push("Image", r"C:\Windows\System32\whoami.exe");
    assert!(r.fires_on(&own));
    let r = sel("ThreatName|contains: 'Mimikatz'");
    assert!(r.fires(&[("Threat Name", "HackTool:Win32/Mimikatz")]));
}

/// Deviations of rsigma 0.23 that Haechi's loader corrects (`src/rewrite.rs`).
/// Modifiers appendix, `windash`: "converts the aforementioned characters
/// interchangeably" — whichever dash the rule writes.
#[test]
fn windash_written_with_any_dash_matches_every_dash() {
    for written in ["/", "\u{2013}"] {
        let r = sel(&format!("CommandLine|windash|contains: ' {written}c '"));
        for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
            let line = format!("cmd {dash}c whoami");
            assert!(
                r.fires(&[("CommandLine", &line)]),
                "rule {written}, event {line}"
            );
        }
        assert!(!r.fires(&[("CommandLine", "cmd c whoami")]));
    }
}

/// Modifiers appendix, `base64offset`: "except the first and last byte the encoded
/// values have a static part in the middle that can be recognized" — so a value
/// followed by more data is found too (pySigma's trimmed offsets), and base64 stays
/// case-significant.
#[test]
fn base64offset_finds_a_value_followed_by_more_data() {
    let r = sel("CommandLine|base64offset|contains: 'Invoke-Mimikatz'");
    for text in [
        "aInvoke-Mimikatz -DumpCreds",
        "abInvoke-Mimikatzxyz",
        "Invoke-Mimikatz and more",
    ] {
        let blob = b64(text.as_bytes());
        assert!(r.fires(&[("CommandLine", &blob)]), "{text} as {blob}");
    }
    let swapped: String = b64(b"Invoke-Mimikatz")
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    assert!(
        !r.fires(&[("CommandLine", &swapped)]),
        "case-swapped base64 is other bytes"
    );
    let r = sel("CommandLine|wide|base64offset|contains: 'spinstall0.aspx'");
    let blob = b64(&utf16le("abspinstall0.aspx?x=1"));
    assert!(r.fires(&[("CommandLine", &blob)]), "{blob}");
    let r = sel("CommandLine|base64offset|contains: 'http'");
    assert!(r.fires(&[("CommandLine", "aHR0cDovL2V2aWwuZXhhbXBsZS8=")]));
}

/// Rules specification, wildcards: "`*` to replace an unbounded length wildcard" — a
/// multi-line value (a PowerShell script block) is one value, so `*` spans its lines.
#[test]
fn wildcards_span_line_breaks() {
    let r = sel("ScriptBlockText|contains: 'Invoke*Mimikatz'");
    assert!(r.fires(&[("ScriptBlockText", "Invoke\n-Mimikatz")]));
    assert!(!r.fires(&[("ScriptBlockText", "Invoke\n-Mimi")]));
    let r = sel("ScriptBlockText: 'a*b'");
    assert!(r.fires(&[("ScriptBlockText", "a\nb")]));
    assert!(
        !r.fires(&[("ScriptBlockText", "a\nbc")]),
        "still anchored at both ends"
    );
    let r = sel("ScriptBlockText: 'a?b'");
    assert!(r.fires(&[("ScriptBlockText", "a\nb")]));
    let r = sel("ScriptBlockText: '*\\evil.ps1'");
    assert!(r.fires(&[("ScriptBlockText", "line one\nC:\\x\\EVIL.ps1")]));
}
