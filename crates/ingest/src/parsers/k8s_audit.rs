//! `k8s_audit`: Kubernetes API server audit events (`audit.k8s.io/v1` and `v1beta1`
//! `Event`, one JSON object per line, as the audit log backend writes them and webhook
//! backends send them; an `EventList` is unpacked into its items).
//!
//! * **Every field is kept** under its flattened name (`verb`, `objectRef.resource`,
//!   `objectRef.namespace`, `user.username`, `responseStatus.code`,
//!   `requestObject.spec…`): the SigmaHQ Kubernetes rules match on these names.
//! * Derived for the rules that need them (the audit event does not carry them flat):
//!   `hostPath` (every `requestObject.spec.volumes[].hostPath.path`, also of pod
//!   templates), `capabilities` (every capability added in a container's
//!   `securityContext`), `privileged` (true when a container asks for it) and
//!   `hostNetwork`/`hostPID`/`hostIPC` (true when the pod spec sets them).
//! * ECS: `requestReceivedTimestamp` (else `stageTimestamp`, `timestamp`) →
//!   `@timestamp`; `verb` → `event.action`; `user.username` → `user.name`;
//!   `sourceIPs[0]` → `source.ip`; `userAgent` → `user_agent.original`;
//!   `responseStatus.code` → `http.response.status_code` and `event.outcome` (below 400:
//!   success); `orchestrator.type: kubernetes`, `orchestrator.namespace`,
//!   `orchestrator.resource.type`/`.name`/`.subresource`, `orchestrator.api_version`;
//!   `event.module: kubernetes`, `event.dataset: kubernetes.audit`.
//! * Refused with the reason: a record that is not a JSON object, or without `verb` or
//!   `auditID`, or whose `verb` is not a text (`{"kind": 0}` in the Falco traces). Verbs
//!   outside the API server's set are kept (aggregated APIs add their own) and marked
//!   `haechi.unknown_verb: true`.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Value, ecs, flatten_json_into, parse_rfc3339};
use serde_json::{Map, Value as Json};

/// The verbs of the Kubernetes API server.
const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "proxy",
    "connect",
    "bind",
    "escalate",
    "impersonate",
    "approve",
    "sign",
    "use",
];

/// The most fields a request or response object may add; past it the rest of the
/// object is not flattened (the derived fields are still computed).
const MAX_OBJECT_FIELDS: usize = 2_000;

pub struct K8sAuditParser;

impl K8sAuditParser {
    pub fn new() -> Self {
        K8sAuditParser
    }
}

impl Default for K8sAuditParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordParser for K8sAuditParser {
    fn format(&self) -> Format {
        Format::K8sAudit
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let map = normalize::json_object(record, "a Kubernetes audit event")?;
        audit_event(&map, ctx).map(Some)
    }

    fn parse_many(
        &mut self,
        record: &str,
        ctx: &ParseContext,
        out: &mut dyn FnMut(Result<Event, ParseError>),
    ) {
        let map = match normalize::json_object(record, "a Kubernetes audit event") {
            Ok(m) => m,
            Err(e) => return out(Err(e)),
        };
        match (map.get("kind").and_then(Json::as_str), map.get("items")) {
            (Some("EventList"), Some(Json::Array(items))) => {
                for (i, item) in items.iter().enumerate() {
                    out(match item {
                        Json::Object(m) => audit_event(m, ctx)
                            .map_err(|e| ParseError::new(format!("items[{i}]: {e}"))),
                        _ => Err(ParseError::new(format!("items[{i}] is not a JSON object"))),
                    });
                }
            }
            _ => out(audit_event(&map, ctx)),
        }
    }
}

/// Whether a JSON object is a Kubernetes audit event (or an `EventList` of them).
pub fn looks_like_k8s_audit(map: &Map<String, Json>) -> bool {
    let api = map.get("apiVersion").and_then(Json::as_str);
    if api.is_some_and(|a| a.starts_with("audit.k8s.io/")) {
        return true;
    }
    map.contains_key("auditID") && map.contains_key("verb") && map.contains_key("stage")
}

fn text<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

/// One audit event as an event.
pub fn audit_event(map: &Map<String, Json>, ctx: &ParseContext) -> Result<Event, ParseError> {
    if !map.contains_key("auditID") {
        return Err(ParseError::new(
            "a Kubernetes audit event needs `auditID` (and `verb`)",
        ));
    }
    let verb = match map.get("verb") {
        Some(Json::String(v)) if !v.is_empty() => v.clone(),
        Some(other) => {
            return Err(ParseError::new(format!(
                "`verb` must be a text, found {}",
                normalize::excerpt(&other.to_string(), 40)
            )));
        }
        None => return Err(ParseError::new("a Kubernetes audit event needs `verb`")),
    };
    let time = ["requestReceivedTimestamp", "stageTimestamp", "timestamp"]
        .iter()
        .find_map(|k| text(map, k))
        .and_then(parse_rfc3339)
        .unwrap_or(ctx.received);
    let mut event = Event::new(time, ctx.tenant.clone(), 64);
    for (key, value) in map {
        if matches!(key.as_str(), "requestObject" | "responseObject")
            && normalize::json_scalar_count(value, MAX_OBJECT_FIELDS + 1) > MAX_OBJECT_FIELDS
        {
            event.push("haechi.truncated", Value::Str(key.clone()));
            continue;
        }
        flatten_json_into(&mut event, key, value);
    }
    derive_pod_fields(&mut event, map.get("requestObject"));
    add_ecs(&mut event, map, &verb);
    Ok(event)
}

/// The pod spec of a request object: a pod's `spec`, or a workload's
/// `spec.template.spec` (deployments, daemon sets, jobs), or a cron job's
/// `spec.jobTemplate.spec.template.spec`.
fn pod_spec(object: &Json) -> Option<&Map<String, Json>> {
    let spec = object.get("spec")?;
    let candidates = [
        spec.get("template").and_then(|t| t.get("spec")),
        spec.get("jobTemplate")
            .and_then(|j| j.get("spec"))
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec")),
        Some(spec),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|s| s.get("containers").is_some() || s.get("volumes").is_some())
        .and_then(Json::as_object)
}

fn derive_pod_fields(event: &mut Event, object: Option<&Json>) {
    let Some(spec) = object.and_then(pod_spec) else {
        return;
    };
    let host_paths: Vec<Value> = spec
        .get("volumes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("hostPath")?.get("path")?.as_str())
        .map(Value::from)
        .collect();
    if !host_paths.is_empty() {
        event.push("hostPath", Value::List(host_paths));
    }
    let containers = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Json::as_array))
        .flatten();
    let mut capabilities = Vec::new();
    let mut privileged = false;
    for c in containers {
        let sc = c.get("securityContext");
        privileged |= sc
            .and_then(|s| s.get("privileged"))
            .and_then(Json::as_bool)
            .unwrap_or(false);
        capabilities.extend(
            sc.and_then(|s| s.get("capabilities"))
                .and_then(|c| c.get("add"))
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(Value::from),
        );
    }
    if !capabilities.is_empty() {
        event.push("capabilities", Value::List(capabilities));
    }
    if privileged {
        event.push("privileged", true);
    }
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec.get(key).and_then(Json::as_bool) == Some(true) {
            event.push(key, true);
        }
    }
}

fn add_ecs(event: &mut Event, map: &Map<String, Json>, verb: &str) {
    event.push(ecs::EVENT_MODULE, "kubernetes");
    event.push(ecs::EVENT_DATASET, "kubernetes.audit");
    event.push(ecs::EVENT_ACTION, verb.to_owned());
    if !VERBS.contains(&verb) {
        event.push("haechi.unknown_verb", true);
    }
    event.push("orchestrator.type", "kubernetes");
    if let Some(r) = map.get("objectRef").and_then(Json::as_object) {
        for (from, to) in [
            ("namespace", "orchestrator.namespace"),
            ("resource", "orchestrator.resource.type"),
            ("name", "orchestrator.resource.name"),
            ("subresource", "orchestrator.resource.subresource"),
            ("apiVersion", "orchestrator.api_version"),
        ] {
            if let Some(v) = text(r, from) {
                event.push(to, v.to_owned());
            }
        }
    }
    if let Some(u) = map
        .get("user")
        .and_then(Json::as_object)
        .and_then(|u| text(u, "username"))
    {
        event.push(ecs::USER_NAME, u.to_owned());
    }
    if let Some(ip) = map
        .get("sourceIPs")
        .and_then(Json::as_array)
        .and_then(|a| a.first())
        .and_then(Json::as_str)
        .and_then(normalize::parse_ip)
    {
        event.push(ecs::SOURCE_IP, ip);
    }
    if let Some(agent) = text(map, "userAgent") {
        event.push("user_agent.original", agent.to_owned());
    }
    let code = map
        .get("responseStatus")
        .and_then(|s| s.get("code"))
        .and_then(Json::as_i64);
    if let Some(code) = code {
        event.push("http.response.status_code", code);
        event.push(
            ecs::EVENT_OUTCOME,
            if code < 400 { "success" } else { "failure" },
        );
    }
    let read = matches!(verb, "get" | "list" | "watch");
    let kind_type: &'static [&'static str] = match verb {
        "create" => &["creation"],
        "delete" | "deletecollection" => &["deletion"],
        "update" | "patch" => &["change"],
        _ if read => &["access"],
        _ => &["info"],
    };
    normalize::categorize(event, "event", &["configuration"], kind_type);
    let what = map
        .get("objectRef")
        .and_then(Json::as_object)
        .and_then(|r| text(r, "resource"))
        .unwrap_or("-");
    event.push(ecs::MESSAGE, format!("{verb} {what}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn falco(name: &str) -> String {
        let path = format!(
            "{}/../../../shared/data/cloud/falco_k8s_audit/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn parse(name: &str) -> Result<Event, ParseError> {
        let text = falco(name);
        let line = text.lines().next().unwrap();
        K8sAuditParser::new()
            .parse(line, &ParseContext::new("t"))
            .map(Option::unwrap)
    }

    #[test]
    fn a_pod_with_a_host_mount_names_the_host_path() {
        let e = parse("create_nginx_pod_sensitive_mount").unwrap();
        assert_eq!(e.get_str("verb"), Some("create"));
        assert_eq!(e.get_str("objectRef.resource"), Some("pods"));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("create"));
        assert_eq!(e.get_str("orchestrator.namespace"), Some("default"));
        assert_eq!(e.get_str("orchestrator.resource.type"), Some("pods"));
        assert_eq!(
            e.get("hostPath"),
            Some(&Value::List(vec![Value::from("/etc")]))
        );
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("kubernetes.audit"));
    }

    #[test]
    fn the_malformed_falco_record_is_refused_with_its_reason() {
        let e = parse("fal_01_003").unwrap_err();
        assert!(e.0.contains("auditID"), "{e}");
        let verb = K8sAuditParser::new()
            .parse(r#"{"auditID":"x","verb":0}"#, &ParseContext::new("t"))
            .unwrap_err();
        assert!(verb.0.contains("`verb` must be a text"), "{verb}");
    }

    #[test]
    fn an_unknown_verb_is_kept_and_marked() {
        let e = K8sAuditParser::new()
            .parse(
                r#"{"auditID":"a","verb":"frobnicate","stage":"ResponseComplete","objectRef":{"resource":"widgets"}}"#,
                &ParseContext::new("t"),
            )
            .unwrap()
            .unwrap();
        assert_eq!(e.get("haechi.unknown_verb"), Some(&Value::Bool(true)));
        assert_eq!(e.get_str("verb"), Some("frobnicate"));
    }
}
