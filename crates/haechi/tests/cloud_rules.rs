//! The cloud rule pack (`rules/cloud`) on the real CloudTrail detonations of Stratus Red
//! Team, through Haechi's own engine (`haechi hunt`): at least 30 of the 35 techniques are
//! detected by a rule that names the technique (`stratus.<technique>` tag), and no rule
//! fires on a record that is not the technique's attack call (the files also hold the
//! detonation's setup, clean-up and read-only noise). The SigmaHQ Kubernetes rules fire
//! on the Falco audit traces that call for them and stay quiet on their benign twins.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Per technique, the CloudTrail calls that are the attack (read from Stratus's
/// documentation of each technique and the detonation files).
const ATTACK: &[(&str, &[&str])] = &[
    (
        "aws.credential-access.ec2-get-password-data",
        &["GetPasswordData"],
    ),
    (
        "aws.credential-access.ec2-steal-instance-credentials",
        &["SendCommand", "GetCallerIdentity", "DescribeInstances"],
    ),
    (
        "aws.credential-access.secretsmanager-batch-retrieve-secrets",
        &["BatchGetSecretValue"],
    ),
    (
        "aws.credential-access.secretsmanager-retrieve-secrets",
        &["GetSecretValue"],
    ),
    (
        "aws.credential-access.ssm-retrieve-securestring-parameters",
        &["GetParameters"],
    ),
    ("aws.defense-evasion.cloudtrail-delete", &["DeleteTrail"]),
    (
        "aws.defense-evasion.cloudtrail-event-selectors",
        &["PutEventSelectors"],
    ),
    ("aws.defense-evasion.cloudtrail-stop", &["StopLogging"]),
    (
        "aws.defense-evasion.dns-delete-logs",
        &["DeleteResolverQueryLogConfig"],
    ),
    (
        "aws.defense-evasion.organizations-leave",
        &["LeaveOrganization"],
    ),
    (
        "aws.defense-evasion.vpc-remove-flow-logs",
        &["DeleteFlowLogs"],
    ),
    (
        "aws.discovery.ec2-download-user-data",
        &["DescribeInstanceAttribute"],
    ),
    (
        "aws.execution.ec2-launch-unusual-instances",
        &["RunInstances"],
    ),
    ("aws.execution.ec2-user-data", &["ModifyInstanceAttribute"]),
    ("aws.execution.ssm-send-command", &["SendCommand"]),
    ("aws.execution.ssm-start-session", &["StartSession"]),
    (
        "aws.exfiltration.ec2-security-group-open-port-22-ingress",
        &["AuthorizeSecurityGroupIngress"],
    ),
    ("aws.exfiltration.ec2-share-ami", &["ModifyImageAttribute"]),
    (
        "aws.exfiltration.ec2-share-ebs-snapshot",
        &["ModifySnapshotAttribute"],
    ),
    (
        "aws.exfiltration.rds-share-snapshot",
        &["ModifyDBSnapshotAttribute"],
    ),
    (
        "aws.impact.bedrock-invoke-model",
        &[
            "InvokeModel",
            "PutUseCaseForModelAccess",
            "CreateFoundationModelAgreement",
            "PutFoundationModelEntitlement",
        ],
    ),
    (
        "aws.initial-access.console-login-without-mfa",
        &["ConsoleLogin"],
    ),
    (
        "aws.lateral-movement.ec2-instance-connect",
        &["SendSSHPublicKey"],
    ),
    (
        "aws.lateral-movement.ec2-serial-console-send-ssh-public-key",
        &["EnableSerialConsoleAccess", "SendSerialConsoleSSHPublicKey"],
    ),
    (
        "aws.persistence.iam-backdoor-role",
        &["UpdateAssumeRolePolicy"],
    ),
    ("aws.persistence.iam-backdoor-user", &["CreateAccessKey"]),
    (
        "aws.persistence.iam-create-admin-user",
        &["CreateUser", "AttachUserPolicy", "CreateAccessKey"],
    ),
    (
        "aws.persistence.iam-create-backdoor-role",
        &["CreateRole", "AttachRolePolicy"],
    ),
    (
        "aws.persistence.iam-create-user-login-profile",
        &["CreateLoginProfile"],
    ),
    (
        "aws.persistence.lambda-backdoor-function",
        &["AddPermission20150331v2"],
    ),
    (
        "aws.persistence.lambda-layer-extension",
        &["UpdateFunctionConfiguration20150331v2"],
    ),
    (
        "aws.persistence.lambda-overwrite-code",
        &["UpdateFunctionCode20150331v2"],
    ),
    (
        "aws.persistence.rolesanywhere-create-trust-anchor",
        &["CreateTrustAnchor", "CreateProfile"],
    ),
    (
        "aws.persistence.sts-federation-token",
        &["GetFederationToken"],
    ),
    (
        "aws.privilege-escalation.iam-update-user-login-profile",
        &["UpdateLoginProfile"],
    ),
];

fn hunt(rules: &Path, paths: &[&Path]) -> Vec<Value> {
    let mut args = vec!["hunt", "--rules", rules.to_str().unwrap(), "--json"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = haechi(&args);
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn file_stem(detection: &Value) -> String {
    let file = detection["file"].as_str().unwrap();
    let name = file.rsplit('/').next().unwrap();
    name.trim_end_matches(".json").to_owned()
}

#[test]
fn the_cloud_pack_detects_the_stratus_techniques_and_nothing_else() {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/cloud");
    let stratus = sample("cloud/stratus_red_team");
    let detections = hunt(&pack, &[&stratus]);
    let attack: BTreeMap<&str, &[&str]> = ATTACK.iter().copied().collect();
    assert_eq!(attack.len(), 35);

    let mut detected: BTreeSet<String> = BTreeSet::new();
    for d in &detections {
        let technique = file_stem(d);
        let calls = attack
            .get(technique.as_str())
            .unwrap_or_else(|| panic!("a detection in an unknown file: {d}"));
        let matched: BTreeMap<String, String> = d["matched"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let call = matched
            .get("eventName")
            .unwrap_or_else(|| panic!("every pack rule selects on eventName: {d}"));
        assert!(
            calls.contains(&call.as_str()),
            "{} fired on {call} in {technique}, which is not the attack",
            d["rule_title"]
        );
        let tags: Vec<&str> = d["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            tags.iter().any(|t| t.starts_with("attack.t")),
            "an ATT&CK technique tag: {d}"
        );
        assert_eq!(d["rule_author"], "Haechi project", "{d}");
        if tags.contains(&format!("stratus.{technique}").as_str()) {
            detected.insert(technique);
        }
    }
    let missed: Vec<&&str> = attack.keys().filter(|t| !detected.contains(**t)).collect();
    assert!(
        detected.len() >= 30,
        "{} of 35 techniques detected; missed: {missed:?}",
        detected.len()
    );
}

#[test]
fn the_sigmahq_kubernetes_rules_fire_on_the_falco_traces_that_call_for_them() {
    let rules = sample("sigma/rules/application/kubernetes");
    let falco = sample("cloud/falco_k8s_audit");
    let detections = hunt(&rules, &[&falco]);
    let mut by_file: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in &detections {
        by_file
            .entry(file_stem(d))
            .or_default()
            .insert(d["rule_title"].as_str().unwrap().to_owned());
    }
    let fires = |file: &str, title: &str| by_file.get(file).is_some_and(|t| t.contains(title));
    assert!(
        fires(
            "exec_pod",
            "Potential Remote Command Execution In Pod Container"
        ),
        "{by_file:#?}"
    );
    assert!(fires(
        "create_nginx_pod_sensitive_mount",
        "Container With A hostPath Mount Created"
    ));
    assert!(fires(
        "create_pod_kube_system_namespace",
        "Creation Of Pod In System Namespace"
    ));
    assert!(fires(
        "create_kube_system_secret",
        "Kubernetes Secrets Modified or Deleted"
    ));
    // The benign twins stay quiet.
    for quiet in [
        "create_nginx_pod_unsensitive_mount",
        "create_pod_kube_public_namespace",
    ] {
        assert!(!by_file.contains_key(quiet), "{quiet}: {by_file:#?}");
    }
}

/// The title of a SigmaHQ rule file.
fn title_of(rule: &str) -> String {
    std::fs::read_to_string(sample(rule))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("title: "))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn the_sigmahq_rules_of_azure_gcp_m365_and_okta_fire_on_their_exports() {
    // One record each, in the shape each cloud's export writes (Azure diagnostic
    // settings, Cloud Audit Logs, the Management Activity API, the Okta System Log),
    // recognised by `--format auto`.
    let lines = [
        r#"{"time":"2024-05-01T10:00:00.0000000Z","resourceId":"/tenants/00000000-0000-0000-0000-000000000001/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","resultType":"50053","resultDescription":"Account is locked","callerIpAddress":"203.0.113.7","properties":{"userPrincipalName":"alice@example.org","ipAddress":"203.0.113.7"}}"#,
        r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"storage.googleapis.com","methodName":"storage.buckets.list","authenticationInfo":{"principalEmail":"mallory@example.org"},"requestMetadata":{"callerIp":"198.51.100.4"},"status":{}},"insertId":"abc","resource":{"type":"gcs_bucket","labels":{"project_id":"city-prod"}},"timestamp":"2024-05-01T10:00:00.123Z","severity":"INFO","logName":"projects/city-prod/logs/cloudaudit.googleapis.com%2Fdata_access"}"#,
        r#"{"CreationTime":"2024-05-01T10:00:00","Id":"2","Operation":"Potential ransomware activity","OrganizationId":"org","RecordType":40,"ResultStatus":"Success","UserId":"SecurityComplianceAlerts","Workload":"SecurityComplianceCenter"}"#,
        r#"{"uuid":"u1","published":"2024-05-01T10:00:00.000Z","eventType":"user.lifecycle.create","displayMessage":"Create Okta user","actor":{"id":"00u1","type":"User","alternateId":"admin@example.org"},"client":{"ipAddress":"192.0.2.55"},"outcome":{"result":"SUCCESS"}}"#,
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "exports.json", &lines.join("\n"));
    let rules = [
        "sigma/rules/cloud/azure/signin_logs/azure_account_lockout.yml",
        "sigma/rules/cloud/gcp/audit/gcp_bucket_enumeration.yml",
        "sigma/rules/identity/okta/okta_user_created.yml",
    ];
    let m365 = std::fs::read_dir(sample("sigma/rules/cloud/m365"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("eventName: 'Potential ransomware activity'")
        })
        .expect("the SigmaHQ ransomware-activity rule");
    let mut titles: Vec<String> = rules.iter().map(|r| title_of(r)).collect();
    titles.push(
        std::fs::read_to_string(&m365)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("title: "))
            .unwrap()
            .trim()
            .to_owned(),
    );
    let rule_dir = dir.path().join("rules");
    std::fs::create_dir_all(&rule_dir).unwrap();
    for (i, r) in rules.iter().map(|r| sample(r)).chain([m365]).enumerate() {
        std::fs::copy(&r, rule_dir.join(format!("r{i}.yml"))).unwrap();
    }
    let found: Vec<String> = hunt(&rule_dir, &[&file])
        .iter()
        .map(|d| d["rule_title"].as_str().unwrap().to_owned())
        .collect();
    for t in &titles {
        assert_eq!(
            found.iter().filter(|f| *f == t).count(),
            1,
            "{t} fires once: {found:?}"
        );
    }
    assert_eq!(found.len(), 4, "{found:?}");
}
