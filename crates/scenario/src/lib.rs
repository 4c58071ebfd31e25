//! # The demo scenario
//!
//! What `haechi demo` plays: four institutions sending the traffic of their equipment in
//! the formats the collector reads — FortiGate firewall syslog, Linux sshd syslog,
//! Suricata EVE alerts and flows, Windows events (Sysmon, Security, System) as a log
//! shipper forwards them in JSON, web access logs, Zeek DNS logs — with attacks woven
//! into the background noise. Each cycle ([`CYCLE_SECS`] seconds of scenario time) holds:
//!
//! * a campaign by one outside address ([`CAMPAIGN_ATTACKER`]) scanning the firewalls of
//!   three institutions in turn, then guessing SSH passwords at the water works until a
//!   root login succeeds, and a hospital workstation beaconing to it (an indicator hit:
//!   the address is on the demo's indicator list);
//! * SQL injection and path traversal against the university's web server;
//! * a malicious document at city hall: Word starts encoded PowerShell, LSASS is dumped,
//!   a service is installed from a temporary directory, and a burst of failed network
//!   logons moves sideways;
//! * algorithmically generated domain names resolved by a university host (for the
//!   domain model);
//! * at the water works, after the root login, the attacker writes the treatment PLC's
//!   registers over Modbus from the SCADA gateway (the HMI only ever reads them);
//! * at city hall, a cloud console login without MFA from the campaign's address, then
//!   an access key created for another user.
//!
//! The starter rules ([`STARTER_RULES`], `rules/starter/` in the repository) detect these
//! attacks; they are Sigma rules written for Haechi and work on real data as well.
//! Everything is generated from a seed, so two runs with the same seed send the same
//! lines (timestamps aside).

use haechi_event::Timestamp;

/// The institutions of the scenario.
pub const INSTITUTIONS: [&str; 4] = ["city-hall", "water-works", "university", "hospital"];

/// Scenario seconds in one cycle; the demo plays cycles one after the other.
pub const CYCLE_SECS: u64 = 60;

/// The outside address of the cross-institution campaign (TEST-NET-3, documentation
/// space: it never belongs to anyone real).
pub const CAMPAIGN_ATTACKER: &str = "203.0.113.66";

/// The outside address attacking the university's web server.
pub const WEB_ATTACKER: &str = "198.51.100.23";

/// The demo's indicator list (plain format, one value per line): the campaign's address
/// and the command-and-control domain it uses.
pub const DEMO_INDICATORS: &str = "# Haechi demo indicators (documentation addresses only)\n\
203.0.113.66\n\
update-check.example-cdn.net\n";

/// The starter Sigma rule pack: file name and text.
/// The demo's vulnerability inventory (`vuln/` in this crate, see its README): the water
/// works' public portal as a composer.lock, with real FriendsOfPHP advisories for five
/// of its packages and the KEV catalog's entry for one of them (CVE-2021-3129). The
/// advisories keep FriendsOfPHP's `vendor/package/ID.yaml` layout, which their ids use.
pub const DEMO_VULN_FILES: &[(&str, &str)] = &[
    ("composer.lock", include_str!("../vuln/composer.lock")),
    (
        "advisories/facade/ignition/CVE-2021-3129.yaml",
        include_str!("../vuln/facade-ignition-CVE-2021-3129.yaml"),
    ),
    (
        "advisories/dompdf/dompdf/CVE-2023-23924.yaml",
        include_str!("../vuln/dompdf-dompdf-CVE-2023-23924.yaml"),
    ),
    (
        "advisories/guzzlehttp/guzzle/CVE-2022-31042.yaml",
        include_str!("../vuln/guzzlehttp-guzzle-CVE-2022-31042.yaml"),
    ),
    (
        "advisories/laravel/framework/CVE-2021-43808.yaml",
        include_str!("../vuln/laravel-framework-CVE-2021-43808.yaml"),
    ),
    (
        "advisories/symfony/http-kernel/CVE-2022-24894.yaml",
        include_str!("../vuln/symfony-http-kernel-CVE-2022-24894.yaml"),
    ),
    (
        "advisories/kev-excerpt.json",
        include_str!("../vuln/kev-excerpt.json"),
    ),
];

pub const STARTER_RULES: &[(&str, &str)] = &[
    (
        "firewall_denied_admin_ports.yml",
        include_str!("../../../rules/starter/firewall_denied_admin_ports.yml"),
    ),
    (
        "ssh_brute_force.yml",
        include_str!("../../../rules/starter/ssh_brute_force.yml"),
    ),
    (
        "web_sql_injection.yml",
        include_str!("../../../rules/starter/web_sql_injection.yml"),
    ),
    (
        "web_path_traversal.yml",
        include_str!("../../../rules/starter/web_path_traversal.yml"),
    ),
    (
        "win_office_spawns_encoded_powershell.yml",
        include_str!("../../../rules/starter/win_office_spawns_encoded_powershell.yml"),
    ),
    (
        "win_lsass_dump_comsvcs.yml",
        include_str!("../../../rules/starter/win_lsass_dump_comsvcs.yml"),
    ),
    (
        "win_service_from_temp.yml",
        include_str!("../../../rules/starter/win_service_from_temp.yml"),
    ),
    (
        "win_logon_failures.yml",
        include_str!("../../../rules/starter/win_logon_failures.yml"),
    ),
    // From the OT pack (rules/ot), for the write to the water works' PLC.
    (
        "modbus_write_function.yml",
        include_str!("../../../rules/ot/modbus_write_function.yml"),
    ),
    // From the cloud pack (rules/cloud), for the cloud credential abuse.
    (
        "aws_signin_console_login_without_mfa.yml",
        include_str!("../../../rules/cloud/aws/aws_signin_console_login_without_mfa.yml"),
    ),
    (
        "aws_iam_access_key_for_other_user.yml",
        include_str!("../../../rules/cloud/aws/aws_iam_access_key_for_other_user.yml"),
    ),
];

/// How lines reach the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The TCP syslog listener (the institution is known by the listener's default).
    Syslog,
    /// `POST /api/ingest?tenant=…&format=…`.
    Http(&'static str),
}

/// Lines of one institution in one format, to send together.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub tenant: &'static str,
    pub transport: Transport,
    pub lines: Vec<String>,
}

/// The scenario generator.
pub struct Scenario {
    rng: Rng,
    clock: Clock,
    /// Background events per second (all institutions together).
    noise: usize,
}

const NANOS: i64 = 1_000_000_000;

/// Scenario time to wall-clock time: scenario millisecond `ms` happens at
/// `start + ms / speed`, so that a faster play still stamps events when they are sent.
#[derive(Clone, Copy)]
struct Clock {
    start: Timestamp,
    speed: f64,
}

impl Clock {
    fn at(self, ms: u64) -> Timestamp {
        Timestamp(self.start.0 + (ms as f64 * 1e6 / self.speed) as i64)
    }
}

impl Scenario {
    /// A scenario whose second 0 happens at `start`, playing `speed` scenario seconds per
    /// real second, with `noise` background events per scenario second.
    pub fn new(seed: u64, start: Timestamp, speed: f64, noise: usize) -> Scenario {
        Scenario {
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            clock: Clock {
                start,
                speed: speed.max(0.001),
            },
            noise,
        }
    }

    /// Everything that happens during one second of scenario time (`second` counts from
    /// the start, across cycles), grouped by institution and transport.
    pub fn second(&mut self, second: u64) -> Vec<Batch> {
        let mut out = Out::default();
        for _ in 0..self.noise {
            let t = self.clock.at(second * 1000 + self.rng.below(1000));
            let who = INSTITUTIONS[self.rng.below(INSTITUTIONS.len() as u64) as usize];
            self.noise_event(&mut out, who, t);
        }
        self.attacks(&mut out, second % CYCLE_SECS, second * 1000);
        out.batches
    }

    fn noise_event(&mut self, out: &mut Out, who: &'static str, t: Timestamp) {
        let r = &mut self.rng;
        match (who, r.below(4)) {
            ("city-hall", 0) | ("hospital", 0) => {
                let host = format!("WS-{:03}", r.below(60) + 1);
                let (image, cmd) =
                    BENIGN_PROCESSES[r.below(BENIGN_PROCESSES.len() as u64) as usize];
                out.push(
                    who,
                    Transport::Http("json"),
                    sysmon_process(t, &host, image, cmd, "C:\\Windows\\explorer.exe", &user(r)),
                );
            }
            ("city-hall", 1) | ("hospital", 1) => {
                let host = format!("WS-{:03}", r.below(60) + 1);
                let ip = format!("10.{}.0.{}", subnet(who), r.below(200) + 10);
                out.push(
                    who,
                    Transport::Http("json"),
                    security_logon(t, &host, 4624, &user(r), &ip, 3),
                );
            }
            ("water-works", 0) => {
                let ip = format!("10.10.0.{}", r.below(50) + 5);
                out.push(
                    who,
                    Transport::Syslog,
                    sshd(
                        t,
                        "scada-gw",
                        &format!(
                            "Accepted publickey for operator from {ip} port {} ssh2",
                            40000 + r.below(20000)
                        ),
                    ),
                );
            }
            ("water-works", 1) => {
                // The HMI polls the treatment PLC, as it does all day.
                out.push(
                    who,
                    Transport::Http("zeek"),
                    zeek_modbus(
                        t,
                        WATER_HMI,
                        WATER_PLC,
                        "READ_HOLDING_REGISTERS",
                        r.below(u64::MAX),
                    ),
                );
            }
            ("university", 0) | ("university", 1) => {
                let (path, status) = WEB_PAGES[r.below(WEB_PAGES.len() as u64) as usize];
                let ip = public_address(r);
                out.push(
                    who,
                    Transport::Http("clf"),
                    clf(t, &ip, "GET", path, status, 500 + r.below(40_000), BROWSER),
                );
            }
            ("university", 2) => {
                let name = POPULAR_DOMAINS[r.below(POPULAR_DOMAINS.len() as u64) as usize];
                let host = format!("10.40.0.{}", r.below(200) + 10);
                out.push(
                    who,
                    Transport::Http("zeek"),
                    zeek_dns(t, &host, name, r.below(u64::MAX)),
                );
            }
            ("hospital", 2) => {
                let src = format!("10.30.0.{}", r.below(200) + 10);
                let dst = public_address(r);
                out.push(
                    who,
                    Transport::Http("suricata"),
                    suricata_flow(
                        t,
                        &src,
                        &dst,
                        443,
                        r.below(u64::MAX),
                        2_000 + r.below(90_000),
                    ),
                );
            }
            _ => {
                // Firewall traffic, allowed: the bulk of any institution's events.
                let src = format!("10.{}.{}.{}", subnet(who), r.below(4), r.below(250) + 2);
                let dst = public_address(r);
                let (port, service) =
                    [(443, "HTTPS"), (80, "HTTP"), (53, "DNS"), (123, "NTP")][r.below(4) as usize];
                let line = fortigate(
                    t,
                    who,
                    &src,
                    30_000 + r.below(30_000),
                    &dst,
                    port,
                    "accept",
                    service,
                );
                out.push(who, firewall_transport(who), line);
            }
        }
    }

    /// The attacks of one cycle, by scenario second.
    fn attacks(&mut self, out: &mut Out, s: u64, base_ms: u64) {
        let clock = self.clock;
        let at = |ms: u64| clock.at(base_ms + ms);
        let r = &mut self.rng;
        // The campaign's scans: water works, then city hall, then the hospital.
        for (from, who) in [(3, "water-works"), (9, "city-hall"), (15, "hospital")] {
            if (from..from + 5).contains(&s) {
                for k in 0..6 {
                    let port = ADMIN_PORTS[r.below(ADMIN_PORTS.len() as u64) as usize];
                    let dst = format!("10.{}.0.{}", subnet(who), r.below(30) + 2);
                    let line = fortigate(
                        at(k * 150),
                        who,
                        CAMPAIGN_ATTACKER,
                        40_000 + r.below(20_000),
                        &dst,
                        port.0,
                        "deny",
                        port.1,
                    );
                    out.push(who, firewall_transport(who), line);
                }
            }
        }
        // SSH password guessing at the water works, then a root login.
        if (10..22).contains(&s) {
            for k in 0..2 {
                let account = ["root", "admin", "operator", "scada", "test"][r.below(5) as usize];
                let msg = format!(
                    "Failed password for {account} from {CAMPAIGN_ATTACKER} port {} ssh2",
                    40_000 + r.below(20_000)
                );
                out.push(
                    "water-works",
                    Transport::Syslog,
                    sshd(at(k * 400), "scada-gw", &msg),
                );
            }
        }
        if s == 24 {
            let msg =
                format!("Accepted password for root from {CAMPAIGN_ATTACKER} port 51999 ssh2");
            out.push(
                "water-works",
                Transport::Syslog,
                sshd(at(0), "scada-gw", &msg),
            );
        }
        // From the gateway it now owns, the attacker writes the treatment PLC's set points.
        if s == 27 {
            out.push(
                "water-works",
                Transport::Http("zeek"),
                zeek_modbus(
                    at(0),
                    WATER_GATEWAY,
                    WATER_PLC,
                    "WRITE_MULTIPLE_REGISTERS",
                    r.below(u64::MAX),
                ),
            );
        }
        // Cloud credential abuse at city hall: a console login without MFA from the
        // campaign's address, then an access key made for another user.
        if s == 28 {
            out.push(
                "city-hall",
                Transport::Http("cloudtrail"),
                cloudtrail_console_login(at(0)),
            );
        }
        if s == 29 {
            out.push(
                "city-hall",
                Transport::Http("cloudtrail"),
                cloudtrail_create_access_key(at(0)),
            );
        }
        // Web attacks on the university.
        if (12..18).contains(&s) {
            for k in 0..3 {
                let path = WEB_ATTACKS[r.below(WEB_ATTACKS.len() as u64) as usize];
                out.push(
                    "university",
                    Transport::Http("clf"),
                    clf(
                        at(k * 300),
                        WEB_ATTACKER,
                        "GET",
                        path,
                        200,
                        1_024,
                        "sqlmap/1.7.2#stable (https://sqlmap.org)",
                    ),
                );
            }
        }
        // The malicious document at city hall.
        let victim = "WS-017";
        match s {
            25 => out.push("city-hall", Transport::Http("json"), sysmon_process(
                at(0), victim, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
                "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "CITY\\jlee")),
            30 => out.push("city-hall", Transport::Http("json"), sysmon_process(
                at(0), victim, "C:\\Windows\\System32\\rundll32.exe",
                "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 712 C:\\Users\\Public\\l.dmp full",
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "CITY\\jlee")),
            33 => out.push("city-hall", Transport::Http("json"), service_install(
                at(0), victim, "WinUpdateHelper", "C:\\Users\\jlee\\AppData\\Local\\Temp\\wuhelper.exe")),
            _ => {}
        }
        if (35..41).contains(&s) {
            for k in 0..3 {
                let host = format!("SRV-FILE{:02}", r.below(3) + 1);
                let account = ["administrator", "backup", "svc_sql", "jkim"][r.below(4) as usize];
                out.push(
                    "city-hall",
                    Transport::Http("json"),
                    security_logon(at(k * 300), &host, 4625, account, "10.20.0.17", 3),
                );
            }
        }
        // A hospital workstation beacons to the campaign's address.
        if (40..50).contains(&s) && s.is_multiple_of(2) {
            let port = 49_000 + r.below(10_000);
            out.push(
                "hospital",
                Transport::Http("suricata"),
                suricata_alert(at(0), "10.30.0.44", port, CAMPAIGN_ATTACKER, 443),
            );
            out.push(
                "hospital",
                Transport::Http("suricata"),
                suricata_flow(
                    at(500),
                    "10.30.0.44",
                    CAMPAIGN_ATTACKER,
                    443,
                    r.below(u64::MAX),
                    900,
                ),
            );
        }
        // Generated domain names resolved at the university.
        if (45..51).contains(&s) {
            let name = dga_name(r);
            out.push(
                "university",
                Transport::Http("zeek"),
                zeek_dns(at(200), "10.40.0.12", &name, r.below(u64::MAX)),
            );
        }
    }
}

/// Batches being collected for one second, one per institution and transport.
#[derive(Default)]
struct Out {
    batches: Vec<Batch>,
}

impl Out {
    fn push(&mut self, tenant: &'static str, transport: Transport, line: String) {
        match self
            .batches
            .iter_mut()
            .find(|b| b.tenant == tenant && b.transport == transport)
        {
            Some(b) => b.lines.push(line),
            None => self.batches.push(Batch {
                tenant,
                transport,
                lines: vec![line],
            }),
        }
    }
}

/// The water works' firewall logs to the syslog listener; the others' reach Haechi
/// through their institution's log forwarder over HTTP.
fn firewall_transport(who: &str) -> Transport {
    if who == "water-works" {
        Transport::Syslog
    } else {
        Transport::Http("syslog")
    }
}

/// The second octet of an institution's private network.
fn subnet(who: &str) -> u8 {
    match who {
        "water-works" => 10,
        "city-hall" => 20,
        "hospital" => 30,
        _ => 40,
    }
}

/// An address on the Internet (not private, not loopback).
fn public_address(r: &mut Rng) -> String {
    let first = [23, 34, 52, 77, 91, 104, 142, 151, 185, 211][r.below(10) as usize];
    format!(
        "{first}.{}.{}.{}",
        r.below(250),
        r.below(250),
        r.below(250) + 1
    )
}

fn user(r: &mut Rng) -> String {
    ["jlee", "mpark", "skim", "hchoi", "yjung", "dkang"][r.below(6) as usize].to_owned()
}

const ADMIN_PORTS: [(u16, &str); 7] = [
    (22, "SSH"),
    (23, "TELNET"),
    (445, "SMB"),
    (1433, "MS-SQL"),
    (3306, "MYSQL"),
    (3389, "RDP"),
    (5900, "VNC"),
];

const BENIGN_PROCESSES: [(&str, &str); 5] = [
    (
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        "\"chrome.exe\" --type=renderer",
    ),
    (
        "C:\\Windows\\System32\\notepad.exe",
        "notepad.exe C:\\Users\\Public\\memo.txt",
    ),
    (
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
        "\"EXCEL.EXE\" /dde",
    ),
    (
        "C:\\Windows\\System32\\svchost.exe",
        "svchost.exe -k netsvcs -p",
    ),
    ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe"),
];

const WEB_PAGES: [(&str, u16); 6] = [
    ("/", 200),
    ("/admissions/apply.html", 200),
    ("/library/search?q=rust+programming", 200),
    ("/static/css/main.css", 200),
    ("/news/2026/11/open-day", 200),
    ("/favicon.ico", 404),
];

const WEB_ATTACKS: [&str; 5] = [
    "/library/search?q=1%27%20UNION%20SELECT%20username,password%20FROM%20users--",
    "/library/search?q=1%27%20AND%20SLEEP(5)--",
    "/library/search?q=%27%20OR%20%271%27%3D%271",
    "/download.php?file=../../../../etc/passwd",
    "/download.php?file=..%2f..%2f..%2fwindows%2fwin.ini",
];

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

const POPULAR_DOMAINS: [&str; 8] = [
    "www.google.com",
    "portal.university.example",
    "login.microsoftonline.com",
    "www.naver.com",
    "github.com",
    "scholar.google.com",
    "update.microsoft.com",
    "www.wikipedia.org",
];

/// A name as domain generation algorithms make them: random letters under a cheap TLD.
fn dga_name(r: &mut Rng) -> String {
    const LETTERS: &[u8] = b"bcdfghjklmnpqrstvwxzaeiou";
    let len = 12 + r.below(8) as usize;
    let label: String = (0..len)
        .map(|_| LETTERS[r.below(LETTERS.len() as u64) as usize] as char)
        .collect();
    format!(
        "{label}.{}",
        ["com", "net", "info", "biz"][r.below(4) as usize]
    )
}

fn utc(t: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_nanos(t.0)
}

/// A FortiGate traffic log line, as its syslog sends it (key=value, times in UTC).
#[allow(clippy::too_many_arguments)]
fn fortigate(
    t: Timestamp,
    who: &str,
    src: &str,
    sport: u64,
    dst: &str,
    dport: u16,
    action: &str,
    service: &str,
) -> String {
    let d = utc(t);
    format!(
        "<134>date={} time={} devname=\"FGT-{}\" devid=\"FG100E{:04}\" type=\"traffic\" subtype=\"forward\" level=\"notice\" srcip={src} srcport={sport} dstip={dst} dstport={dport} proto=6 action=\"{action}\" policyid={} service=\"{service}\"",
        d.format("%Y-%m-%d"),
        d.format("%H:%M:%S"),
        who.to_uppercase(),
        subnet(who),
        if action == "deny" { 0 } else { 7 }
    )
}

/// An sshd line in BSD syslog (RFC 3164) form, facility auth.
/// The water works' operator panel, the SCADA gateway and the treatment plant's PLC.
const WATER_HMI: &str = "10.10.1.5";
const WATER_GATEWAY: &str = "10.10.0.2";
const WATER_PLC: &str = "10.10.2.10";

/// A Zeek `modbus.log` record as JSON (what a Zeek sensor at the plant ships).
fn zeek_modbus(t: Timestamp, client: &str, plc: &str, func: &str, id: u64) -> String {
    serde_json::json!({
        "_path": "modbus",
        "ts": t.0 as f64 / 1e9,
        "uid": format!("C{:016x}", id),
        "id.orig_h": client, "id.orig_p": 40000 + id % 20000,
        "id.resp_h": plc, "id.resp_p": 502,
        "func": func,
    })
    .to_string()
}

/// A CloudTrail console sign-in by an IAM user without MFA, from the campaign's address.
fn cloudtrail_console_login(t: Timestamp) -> String {
    serde_json::json!({
        "eventVersion": "1.08", "eventTime": utc(t).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "ap-northeast-2", "sourceIPAddress": CAMPAIGN_ATTACKER,
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLECITYHALL1",
            "arn": "arn:aws:iam::111122223333:user/jlee", "accountId": "111122223333", "userName": "jlee"},
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No"},
        "eventID": format!("{:08x}-demo-4000-8000-000000000001", t.0 as u64 & 0xffff_ffff),
        "eventType": "AwsConsoleSignIn", "recipientAccountId": "111122223333",
    })
    .to_string()
}

/// A CloudTrail `CreateAccessKey` for another user, by the same signed-in user.
fn cloudtrail_create_access_key(t: Timestamp) -> String {
    serde_json::json!({
        "eventVersion": "1.08", "eventTime": utc(t).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
        "awsRegion": "us-east-1", "sourceIPAddress": CAMPAIGN_ATTACKER,
        "userAgent": "aws-cli/2.15.0",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLECITYHALL1",
            "arn": "arn:aws:iam::111122223333:user/jlee", "accountId": "111122223333", "userName": "jlee"},
        "requestParameters": {"userName": "svc-backup"},
        "responseElements": {"accessKey": {"accessKeyId": "AKIAEXAMPLEDEMO00001", "status": "Active", "userName": "svc-backup"}},
        "eventID": format!("{:08x}-demo-4000-8000-000000000002", t.0 as u64 & 0xffff_ffff),
        "eventType": "AwsApiCall", "recipientAccountId": "111122223333", "readOnly": false,
    })
    .to_string()
}

fn sshd(t: Timestamp, host: &str, message: &str) -> String {
    format!(
        "<38>{} {host} sshd[2211]: {message}",
        utc(t).format("%b %e %H:%M:%S")
    )
}

/// A web server access log line (combined format).
fn clf(
    t: Timestamp,
    ip: &str,
    method: &str,
    path: &str,
    status: u16,
    bytes: u64,
    agent: &str,
) -> String {
    format!(
        "{ip} - - [{}] \"{method} {path} HTTP/1.1\" {status} {bytes} \"-\" \"{agent}\"",
        utc(t).format("%d/%b/%Y:%H:%M:%S +0000")
    )
}

/// A Zeek dns.log record in Zeek's JSON form.
fn zeek_dns(t: Timestamp, host: &str, name: &str, id: u64) -> String {
    serde_json::json!({
        "ts": t.0 as f64 / 1e9,
        "uid": format!("C{:016x}", id),
        "id.orig_h": host, "id.orig_p": 50_000 + id % 10_000,
        "id.resp_h": "10.40.0.2", "id.resp_p": 53,
        "proto": "udp", "query": name, "qtype_name": "A", "rcode_name": "NOERROR",
    })
    .to_string()
}

fn suricata_time(t: Timestamp) -> String {
    utc(t).format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string()
}

/// A Suricata EVE alert: an Emerging Threats signature on command-and-control traffic.
fn suricata_alert(t: Timestamp, src: &str, sport: u64, dst: &str, dport: u16) -> String {
    serde_json::json!({
        "timestamp": suricata_time(t), "flow_id": sport * 7919, "event_type": "alert",
        "src_ip": src, "src_port": sport, "dest_ip": dst, "dest_port": dport, "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2_027_000, "rev": 3,
            "signature": "ET MALWARE Cobalt Strike Beacon Observed",
            "category": "A Network Trojan was detected", "severity": 1},
        "tls": {"sni": "update-check.example-cdn.net"},
        "host": "ids-hospital",
    })
    .to_string()
}

/// A Suricata EVE flow record.
fn suricata_flow(t: Timestamp, src: &str, dst: &str, dport: u16, id: u64, bytes: u64) -> String {
    let start = Timestamp(t.0 - 2 * NANOS);
    serde_json::json!({
        "timestamp": suricata_time(t), "flow_id": id % 1_000_000_000, "event_type": "flow",
        "src_ip": src, "src_port": 40_000 + id % 20_000, "dest_ip": dst, "dest_port": dport, "proto": "TCP",
        "flow": {"pkts_toserver": 4 + bytes / 1400, "pkts_toclient": 3 + bytes / 2800,
            "bytes_toserver": bytes / 3, "bytes_toclient": bytes,
            "start": suricata_time(start), "end": suricata_time(t), "state": "closed"},
        "host": "ids-hospital",
    })
    .to_string()
}

/// The fields every forwarded Windows event has, as a log shipper flattens them.
fn windows_event(
    t: Timestamp,
    host: &str,
    channel: &str,
    provider: &str,
    id: u32,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("@timestamp".into(), t.to_rfc3339().into());
    m.insert("winlog.channel".into(), channel.into());
    m.insert("Event.System.Channel".into(), channel.into());
    m.insert(
        "Event.System.Provider_attributes.Name".into(),
        provider.into(),
    );
    m.insert("Event.System.EventID".into(), id.into());
    m.insert("Event.System.Computer".into(), host.into());
    m.insert("event.code".into(), id.to_string().into());
    m.insert("host.name".into(), host.into());
    m
}

/// Sysmon event 1: a process was created.
fn sysmon_process(
    t: Timestamp,
    host: &str,
    image: &str,
    cmd: &str,
    parent: &str,
    user: &str,
) -> String {
    let mut m = windows_event(
        t,
        host,
        "Microsoft-Windows-Sysmon/Operational",
        "Microsoft-Windows-Sysmon",
        1,
    );
    m.insert("Event.EventData.Image".into(), image.into());
    m.insert("Event.EventData.CommandLine".into(), cmd.into());
    m.insert("Event.EventData.ParentImage".into(), parent.into());
    m.insert("Event.EventData.User".into(), user.into());
    serde_json::Value::Object(m).to_string()
}

/// Security 4624 / 4625: a logon succeeded or failed.
fn security_logon(
    t: Timestamp,
    host: &str,
    id: u32,
    user: &str,
    ip: &str,
    logon_type: u32,
) -> String {
    let mut m = windows_event(
        t,
        host,
        "Security",
        "Microsoft-Windows-Security-Auditing",
        id,
    );
    m.insert("Event.EventData.TargetUserName".into(), user.into());
    m.insert("Event.EventData.IpAddress".into(), ip.into());
    m.insert("Event.EventData.LogonType".into(), logon_type.into());
    m.insert("Event.EventData.WorkstationName".into(), "-".into());
    serde_json::Value::Object(m).to_string()
}

/// System 7045: a service was installed.
fn service_install(t: Timestamp, host: &str, name: &str, path: &str) -> String {
    let mut m = windows_event(t, host, "System", "Service Control Manager", 7045);
    m.insert("Event.EventData.ServiceName".into(), name.into());
    m.insert("Event.EventData.ImagePath".into(), path.into());
    m.insert(
        "Event.EventData.ServiceType".into(),
        "user mode service".into(),
    );
    m.insert("Event.EventData.StartType".into(), "auto start".into());
    m.insert("Event.EventData.AccountName".into(), "LocalSystem".into());
    serde_json::Value::Object(m).to_string()
}

/// xorshift64*: small, fast, and the same sequence for the same seed everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(seed: u64) -> Vec<Batch> {
        let mut s = Scenario::new(seed, Timestamp(1_790_000_000 * NANOS), 1.0, 20);
        (0..CYCLE_SECS).flat_map(|k| s.second(k)).collect()
    }

    #[test]
    fn a_cycle_sends_every_institution_and_the_campaign_reaches_three() {
        let batches = cycle(7);
        for who in INSTITUTIONS {
            assert!(
                batches.iter().any(|b| b.tenant == who),
                "{who} sends nothing"
            );
        }
        let hit: std::collections::BTreeSet<&str> = batches
            .iter()
            .filter(|b| b.lines.iter().any(|l| l.contains(CAMPAIGN_ATTACKER)))
            .map(|b| b.tenant)
            .collect();
        assert_eq!(
            hit.into_iter().collect::<Vec<_>>(),
            ["city-hall", "hospital", "water-works"]
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_traffic() {
        assert_eq!(cycle(42), cycle(42));
        assert_ne!(cycle(42), cycle(43));
    }

    #[test]
    fn json_lines_are_json_and_the_starter_rules_are_embedded() {
        for b in cycle(3) {
            if let Transport::Http("json" | "suricata" | "zeek") = b.transport {
                for l in &b.lines {
                    serde_json::from_str::<serde_json::Value>(l).expect(l);
                }
            }
        }
        assert!(
            STARTER_RULES
                .iter()
                .all(|(_, text)| text.contains("title:"))
        );
    }
}
