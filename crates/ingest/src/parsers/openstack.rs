//! `openstack`: the service logs of an OpenStack private cloud (nova, keystone, neutron,
//! glance, cinder…), as `oslo.log` writes them:
//!
//! ```text
//! [file] 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-ID USER PROJECT - - -] 10.11.10.1 "GET /v2/…/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829
//! ```
//!
//! * The time has no zone: it is read in `parse.timezone`. A leading file name (loghub's
//!   samples prefix each line with it) goes to `log.file.path`.
//! * `process.pid`, `log.level`, `log.logger` (the module), `service.name` (its first
//!   part: `nova`, `keystone`, …); the request context gives `openstack.request_id`,
//!   `user.id` and `openstack.project_id`.
//! * API server lines (`…wsgi…`) give `source.ip`, `http.request.method`, `url.original`,
//!   `url.path`, `http.response.status_code`, `http.response.body.bytes`,
//!   `event.duration`, `event.action` (the method) and `event.outcome` (below 400:
//!   success).
//! * `event.module: openstack`, `event.dataset: openstack.<service>`, `cloud.provider:
//!   openstack`; the text after the context is `message`.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Value, ecs};

pub struct OpenStackParser;

impl OpenStackParser {
    pub fn new() -> Self {
        OpenStackParser
    }
}

impl Default for OpenStackParser {
    fn default() -> Self {
        Self::new()
    }
}

const LEVELS: &[&str] = &[
    "DEBUG", "INFO", "AUDIT", "WARNING", "ERROR", "CRITICAL", "TRACE",
];

/// `YYYY-MM-DD HH:MM:SS[.fff] PID LEVEL ` at the start of `text`: the stamp and the rest.
fn oslo_head(text: &str) -> Option<(&str, &str, &str, &str)> {
    let b = text.as_bytes();
    let date_ok = b.len() > 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && b[..4].iter().all(u8::is_ascii_digit);
    if !date_ok {
        return None;
    }
    let mut parts = text.splitn(5, ' ');
    let date = parts.next()?;
    let time = parts.next()?;
    let pid = parts.next()?;
    let level = parts.next()?;
    let rest = parts.next().unwrap_or("");
    if !pid.bytes().all(|c| c.is_ascii_digit()) || !LEVELS.contains(&level) {
        return None;
    }
    let stamp_len = date.len() + 1 + time.len();
    Some((&text[..stamp_len], pid, level, rest))
}

/// Whether a record is an `oslo.log` line (optionally after a file name).
pub fn looks_like_openstack(text: &str) -> bool {
    oslo_head(text).is_some()
        || text
            .split_once(' ')
            .is_some_and(|(first, rest)| first.contains(".log") && oslo_head(rest).is_some())
}

impl RecordParser for OpenStackParser {
    fn format(&self) -> Format {
        Format::OpenStack
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let (file, line) = match oslo_head(record) {
            Some(_) => (None, record),
            None => match record.split_once(' ') {
                Some((f, rest)) if oslo_head(rest).is_some() => (Some(f), rest),
                _ => {
                    return Err(ParseError::new(format!(
                        "expected an oslo.log line (`YYYY-MM-DD HH:MM:SS.fff PID LEVEL module …`), found '{}'",
                        normalize::excerpt(record, 40)
                    )));
                }
            },
        };
        let (stamp, pid, level, rest) = oslo_head(line).unwrap_or_default();
        let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f")
            .map_err(|e| ParseError::new(format!("time '{stamp}': {e}")))?;
        let timestamp = normalize::zoned_to_utc(ctx, None, &naive)
            .ok_or_else(|| ParseError::new(format!("time '{stamp}' does not exist in the zone")))?;
        let (module, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let service = module.split('.').next().unwrap_or(module).to_owned();
        let mut event = Event::new(timestamp, ctx.tenant.clone(), 24);
        if let Some(f) = file {
            event.push(ecs::LOG_FILE_PATH, f.to_owned());
        }
        if let Ok(p) = pid.parse::<i64>() {
            event.push(ecs::PROCESS_PID, p);
        }
        event.push("log.level", level.to_ascii_lowercase());
        event.push("log.logger", module.to_owned());
        event.push("service.name", service.clone());
        let message = match rest.strip_prefix('[').and_then(|r| r.split_once("] ")) {
            Some((context, message)) => {
                request_context(&mut event, context);
                message
            }
            None => rest,
        };
        let web = module.contains("wsgi") && api_request(&mut event, message);
        event.push(ecs::EVENT_MODULE, "openstack");
        event.push(ecs::EVENT_DATASET, format!("openstack.{service}"));
        event.push("cloud.provider", "openstack");
        if web {
            normalize::categorize(&mut event, "event", &["web"], &["access"]);
        } else {
            normalize::categorize(&mut event, "event", &[], &[]);
        }
        event.push(ecs::MESSAGE, message.to_owned());
        Ok(Some(event))
    }
}

/// `req-ID USER PROJECT DOMAIN USER_DOMAIN PROJECT_DOMAIN` (`-` for none).
fn request_context(event: &mut Event, context: &str) {
    let mut parts = context.split(' ');
    if let Some(id) = parts.next().filter(|p| p.starts_with("req-")) {
        event.push("openstack.request_id", id.to_owned());
        if let Some(user) = parts.next().filter(|u| *u != "-") {
            event.push("user.id", user.to_owned());
        }
        if let Some(project) = parts.next().filter(|p| *p != "-") {
            event.push("openstack.project_id", project.to_owned());
        }
    }
}

/// `CLIENT "METHOD PATH HTTP/x" status: N len: N time: F`; false when it is not one.
fn api_request(event: &mut Event, message: &str) -> bool {
    let Some((client, rest)) = message.split_once(" \"") else {
        return false;
    };
    let Some((request, tail)) = rest.split_once("\" ") else {
        return false;
    };
    let mut req = request.split(' ');
    let (Some(method), Some(path)) = (req.next(), req.next()) else {
        return false;
    };
    normalize::push_ip(event, ecs::SOURCE_IP, client);
    event.push("http.request.method", method.to_owned());
    event.push(ecs::EVENT_ACTION, method.to_owned());
    event.push(ecs::URL_ORIGINAL, path.to_owned());
    event.push(
        ecs::URL_PATH,
        path.split_once('?').map_or(path, |(p, _)| p).to_owned(),
    );
    let mut words = tail.split_whitespace();
    while let Some(w) = words.next() {
        let value = words.next();
        match (w, value) {
            ("status:", Some(v)) => {
                if let Ok(code) = v.parse::<i64>() {
                    event.push("http.response.status_code", code);
                    event.push(
                        ecs::EVENT_OUTCOME,
                        if code < 400 { "success" } else { "failure" },
                    );
                }
            }
            ("len:", Some(v)) => {
                if let Ok(n) = v.parse::<i64>() {
                    event.push("http.response.body.bytes", n);
                }
            }
            ("time:", Some(v)) => {
                if let Ok(secs) = v.parse::<f64>() {
                    event.push(ecs::EVENT_DURATION, Value::Int((secs * 1e9) as i64));
                }
            }
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nova_api_line_of_the_loghub_sample_maps_to_ecs() {
        let path = format!(
            "{}/../../../shared/data/cloud/loghub_openstack/OpenStack_2k.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let mut p = OpenStackParser::new();
        let ctx = ParseContext::new("t");
        let events: Vec<Event> = text
            .lines()
            .map(|l| {
                p.parse(l, &ctx)
                    .unwrap_or_else(|e| panic!("{l}: {e}"))
                    .unwrap()
            })
            .collect();
        assert_eq!(events.len(), text.lines().count());
        let e = &events[0];
        assert_eq!(e.get_str("service.name"), Some("nova"));
        assert_eq!(e.get_str("http.request.method"), Some("GET"));
        assert_eq!(e.get("http.response.status_code"), Some(&Value::Int(200)));
        assert_eq!(
            e.get_str("user.id"),
            Some("113d3a99c3da401fbd62cc2caa5b96d2")
        );
        assert_eq!(
            e.get_str("openstack.project_id"),
            Some("54fadb412c4e40cdbaed9335e4c35a9e")
        );
        assert_eq!(
            e.get(ecs::SOURCE_IP).map(|v| v.as_text().into_owned()),
            Some("10.11.10.1".into())
        );
        assert_eq!(
            e.get_str(ecs::LOG_FILE_PATH),
            Some("nova-api.log.1.2017-05-16_13:53:08")
        );
        assert!(looks_like_openstack(text.lines().next().unwrap()));
        assert!(!looks_like_openstack("2017-05-16 00:00:00 not a level"));
        let warnings = events
            .iter()
            .filter(|e| e.get_str("log.level") == Some("warning"))
            .count();
        assert_eq!(
            warnings,
            text.lines().filter(|l| l.contains(" WARNING ")).count()
        );
    }
}
