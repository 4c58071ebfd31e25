//! The SME self-assessment: a short questionnaire (Haechi's own wording, each question
//! tied to the ISMS-P criterion and the CIS Controls v8 IG1 safeguard it comes from) and
//! the company's own SBOMs or lockfiles, scored per area into a report with what to do
//! next. The questionnaire and the scoring are here; the web page that asks and the
//! report it renders are the server's.
//!
//! Scoring: each answer counts `yes` 1, `partly` ½, `no` and `don't know` 0, weighted by
//! the question; an area's score is its weighted share out of 100. The uploaded files
//! are evidence too: an inventory that reads counts for the asset questions' "software
//! list", and known-exploited or act-now findings cap the patching area, because a
//! company that says it patches in time while running a KEV-listed version does not.

use crate::fix::{self, PatchPlan, Strategy};
use crate::inventory::Inventory;
use crate::matcher::{Finding, Matcher, ScanSummary};
use crate::ssvc::Exposure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The areas a small company is scored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Assets,
    Patching,
    Backup,
    Access,
    Logging,
    Incident,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Assets,
        Area::Patching,
        Area::Backup,
        Area::Access,
        Area::Logging,
        Area::Incident,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Area::Assets => "Asset inventory",
            Area::Patching => "Vulnerabilities and patches",
            Area::Backup => "Backups and recovery",
            Area::Access => "Accounts, passwords and MFA",
            Area::Logging => "Logging and monitoring",
            Area::Incident => "Incident response and contacts",
        }
    }
}

/// One question.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Question {
    pub id: &'static str,
    pub area: Area,
    pub text: &'static str,
    /// The ISMS-P protection criterion it comes from (KISA's number).
    pub isms: &'static str,
    /// The CIS Controls v8 safeguard of Implementation Group 1.
    pub cis: &'static str,
    /// 1 (useful) to 3 (what attackers exploit first).
    pub weight: u8,
    /// What to do when the answer is not `yes`.
    pub advice: &'static str,
}

const fn q(
    id: &'static str,
    area: Area,
    isms: &'static str,
    cis: &'static str,
    weight: u8,
    text: &'static str,
    advice: &'static str,
) -> Question {
    Question {
        id,
        area,
        text,
        isms,
        cis,
        weight,
        advice,
    }
}

/// The questionnaire: 24 questions, 4 per area.
pub const QUESTIONS: &[Question] = &[
    q(
        "assets-hardware",
        Area::Assets,
        "1.2.1",
        "1.1",
        2,
        "Do you keep a list of your computers, servers, network devices and cloud accounts, with an owner for each?",
        "Write down every device and cloud account with its owner and review the list every quarter; you cannot protect what you do not know.",
    ),
    q(
        "assets-software",
        Area::Assets,
        "1.2.1",
        "2.1",
        2,
        "Do you keep a list of the software and the versions you run (an SBOM or lockfiles for your own applications)?",
        "Generate an SBOM for each application you build or buy (Haechi generates CycloneDX from lockfiles) and keep it with the release.",
    ),
    q(
        "assets-supported",
        Area::Assets,
        "2.10.8",
        "2.2",
        2,
        "Is all the software you run still supported by its vendor (no end-of-life operating systems or frameworks)?",
        "Replace or isolate end-of-life systems: they no longer receive security fixes.",
    ),
    q(
        "assets-unauthorised",
        Area::Assets,
        "2.10.6",
        "2.3",
        1,
        "Do you find and remove software that nobody approved?",
        "Check your devices for unapproved software every month and remove it.",
    ),
    q(
        "patch-process",
        Area::Patching,
        "2.11.2",
        "7.1",
        2,
        "Does someone check for new vulnerabilities in what you run at least monthly?",
        "Name a person who checks advisories for your inventory every month, or subscribe to a service that does.",
    ),
    q(
        "patch-os",
        Area::Patching,
        "2.10.8",
        "7.3",
        3,
        "Are operating system updates installed automatically or within 30 days?",
        "Turn on automatic operating system updates, or schedule a monthly patch day.",
    ),
    q(
        "patch-apps",
        Area::Patching,
        "2.10.8",
        "7.4",
        3,
        "Are application and library updates installed within 30 days (14 for internet-facing systems)?",
        "Apply the patch plans in this report, starting with known-exploited vulnerabilities; then update applications on a fixed schedule.",
    ),
    q(
        "patch-config",
        Area::Patching,
        "2.10.3",
        "4.1",
        2,
        "Do you change default passwords and settings before a system goes into use?",
        "Keep a short secure-configuration checklist per kind of system and apply it before going live.",
    ),
    q(
        "backup-automated",
        Area::Backup,
        "2.9.3",
        "11.2",
        3,
        "Are your important data backed up automatically at least weekly?",
        "Automate a weekly (better daily) backup of every system holding business data.",
    ),
    q(
        "backup-isolated",
        Area::Backup,
        "2.9.3",
        "11.4",
        3,
        "Is at least one backup copy offline or otherwise out of reach of ransomware?",
        "Keep one copy offline, or in storage that your everyday accounts cannot delete or overwrite.",
    ),
    q(
        "backup-restore",
        Area::Backup,
        "2.12.2",
        "11.1",
        2,
        "Have you restored from a backup in the last year to check that it works?",
        "Restore a sample of data and one whole system once a year, and note how long it took.",
    ),
    q(
        "backup-protected",
        Area::Backup,
        "2.7.1",
        "11.3",
        1,
        "Are backups encrypted or otherwise protected like the original data?",
        "Encrypt backups and limit who can read them.",
    ),
    q(
        "access-mfa-remote",
        Area::Access,
        "2.5.3",
        "6.4",
        3,
        "Is multi-factor authentication required for remote access (VPN, remote desktop)?",
        "Require MFA for every VPN and remote desktop login; stolen passwords are the commonest way in.",
    ),
    q(
        "access-mfa-external",
        Area::Access,
        "2.5.3",
        "6.3",
        3,
        "Is multi-factor authentication required for e-mail and other internet-facing services?",
        "Turn on MFA for e-mail, cloud and every other internet-facing service.",
    ),
    q(
        "access-admin",
        Area::Access,
        "2.5.5",
        "5.4",
        2,
        "Do administrators use separate accounts for administration, not for daily work?",
        "Give administrators a separate account used only for administration.",
    ),
    q(
        "access-leavers",
        Area::Access,
        "2.5.1",
        "6.2",
        2,
        "Are accounts disabled on the day someone leaves, and unused accounts removed?",
        "Disable accounts when people leave and review all accounts every quarter.",
    ),
    q(
        "logging-enabled",
        Area::Logging,
        "2.9.4",
        "8.2",
        2,
        "Are logs collected from your servers, firewall and important applications?",
        "Turn on logging on servers, the firewall and applications, and collect it in one place.",
    ),
    q(
        "logging-retained",
        Area::Logging,
        "2.9.4",
        "8.3",
        1,
        "Are logs kept for at least one year?",
        "Keep logs for at least a year (more where the law asks): incidents are often found months later.",
    ),
    q(
        "logging-reviewed",
        Area::Logging,
        "2.9.5",
        "8.1",
        2,
        "Does someone look at security alerts or logs at least weekly?",
        "Review alerts weekly, or have a monitoring service (such as a regional control center) watch them.",
    ),
    q(
        "logging-malware",
        Area::Logging,
        "2.10.9",
        "10.1",
        2,
        "Is anti-malware installed on every computer and server and updated automatically?",
        "Install anti-malware everywhere and let it update itself.",
    ),
    q(
        "incident-contacts",
        Area::Incident,
        "2.11.1",
        "17.2",
        3,
        "Do you know whom to call in an incident (your IT provider, KISA 118, the police), and is the list current?",
        "Write down your incident contacts (IT provider, KISA's 118 center, the police's cyber bureau, your insurer) and put the list where everyone finds it.",
    ),
    q(
        "incident-owner",
        Area::Incident,
        "2.11.1",
        "17.1",
        2,
        "Is one person responsible for handling security incidents, with a deputy?",
        "Name an incident owner and a deputy.",
    ),
    q(
        "incident-reporting",
        Area::Incident,
        "2.11.5",
        "17.3",
        2,
        "Do staff know how to report something suspicious (a phishing mail, a strange login)?",
        "Tell staff, in one sentence, how and to whom they report anything suspicious, and thank them when they do.",
    ),
    q(
        "incident-training",
        Area::Incident,
        "2.2.4",
        "14.1",
        1,
        "Are staff trained in security (phishing, passwords) at least once a year?",
        "Give everyone a short yearly security briefing, with phishing examples.",
    ),
];

/// One answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    Yes,
    Partly,
    No,
    DontKnow,
}

impl Answer {
    /// The share of the question's weight it earns, in halves.
    fn halves(self) -> u32 {
        match self {
            Answer::Yes => 2,
            Answer::Partly => 1,
            Answer::No | Answer::DontKnow => 0,
        }
    }
}

/// An area's score.
#[derive(Clone, Debug, Serialize)]
pub struct AreaScore {
    pub area: Area,
    pub title: &'static str,
    /// 0–100.
    pub score: u32,
    /// Why the score is lower than the answers alone give, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capped: Option<String>,
}

/// One step to take, most important first.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub area: Area,
    pub question: &'static str,
    pub advice: String,
    pub isms: &'static str,
    pub cis: &'static str,
    pub weight: u8,
}

/// What one uploaded file gave.
#[derive(Clone, Debug, Serialize)]
pub struct FileResult {
    pub name: String,
    pub format: String,
    pub components: usize,
    /// Components that could not be checked, with the reasons.
    pub skipped: Vec<crate::inventory::SkippedComponent>,
}

/// The whole result.
#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    pub company: String,
    pub overall: u32,
    pub areas: Vec<AreaScore>,
    pub steps: Vec<Step>,
    /// Findings, most urgent first (KEV, then SSVC Act, Attend, Track*, Track).
    pub findings: Vec<Finding>,
    pub plans: Vec<PatchPlan>,
    pub files: Vec<FileResult>,
    pub summary: ScanSummary,
    /// Questions left unanswered (scored as `don't know`).
    pub unanswered: usize,
}

/// Rejects answers to questions that do not exist.
pub fn check_answers(answers: &BTreeMap<String, Answer>) -> Result<(), String> {
    for id in answers.keys() {
        if !QUESTIONS.iter().any(|q| q.id == id) {
            return Err(format!("answers: no question '{id}'"));
        }
    }
    Ok(())
}

/// The urgency order of findings: KEV first, then by SSVC decision.
fn urgency(f: &Finding) -> (u8, u8) {
    let ssvc = match f.ssvc.as_str() {
        "Act" => 0,
        "Attend" => 1,
        "Track*" => 2,
        _ => 3,
    };
    (u8::from(!f.kev), ssvc)
}

/// Scores the answers and the files (already read) of one company. Systems of a small
/// company's uploads are treated as internet-facing unless it says otherwise: that is
/// the safer reading when nobody has drawn the network.
pub fn assess(
    matcher: &Matcher,
    company: &str,
    answers: &BTreeMap<String, Answer>,
    files: &[Inventory],
    exposure: Exposure,
) -> Assessment {
    let mut findings = Vec::new();
    let mut summary = ScanSummary::default();
    for inv in files {
        matcher.scan(inv, exposure, &mut findings, &mut summary);
    }
    findings.sort_by_key(urgency);
    let plans = fix::plan(matcher, &findings, Strategy::Minimal);
    let urgent = findings.iter().filter(|f| f.kev || f.ssvc == "Act").count();
    let has_inventory = files.iter().any(|i| !i.components.is_empty());
    let mut areas = Vec::new();
    for area in Area::ALL {
        let (mut earned, mut total) = (0u32, 0u32);
        for q in QUESTIONS.iter().filter(|q| q.area == area) {
            let mut answer = answers.get(q.id).copied().unwrap_or(Answer::DontKnow);
            // An inventory that reads is the software list the question asks about.
            if q.id == "assets-software" && has_inventory && answer != Answer::Yes {
                answer = Answer::Partly.max_with(answer);
            }
            earned += answer.halves() * u32::from(q.weight);
            total += 2 * u32::from(q.weight);
        }
        let mut score = (earned * 100 + total / 2) / total;
        let mut capped = None;
        if area == Area::Patching && urgent > 0 && score > 40 {
            score = 40;
            capped = Some(format!(
                "{urgent} known-exploited or act-now finding(s) in the uploaded files"
            ));
        }
        areas.push(AreaScore {
            area,
            title: area.title(),
            score,
            capped,
        });
    }
    let overall = (areas.iter().map(|a| a.score).sum::<u32>() + 3) / areas.len() as u32;
    let mut steps: Vec<Step> = QUESTIONS
        .iter()
        .filter(|q| answers.get(q.id).copied().unwrap_or(Answer::DontKnow) != Answer::Yes)
        .map(|q| Step {
            area: q.area,
            question: q.id,
            advice: q.advice.to_owned(),
            isms: q.isms,
            cis: q.cis,
            weight: q.weight,
        })
        .collect();
    if urgent > 0 {
        steps.push(Step {
            area: Area::Patching,
            question: "uploaded-files",
            advice: format!(
                "Fix the {urgent} known-exploited or act-now vulnerabilities listed below first, with the patch plans given."
            ),
            isms: "2.11.2",
            cis: "7.2",
            weight: 4,
        });
    }
    // Heaviest first; within a weight, in the questionnaire's order (stable sort).
    steps.sort_by_key(|s| std::cmp::Reverse(s.weight));
    Assessment {
        company: company.to_owned(),
        overall,
        areas,
        steps,
        findings,
        plans,
        files: files
            .iter()
            .map(|i| FileResult {
                name: i.source.clone(),
                format: i.format.clone(),
                components: i.components.len(),
                skipped: i.skipped.clone(),
            })
            .collect(),
        summary,
        unanswered: QUESTIONS
            .iter()
            .filter(|q| !answers.contains_key(q.id))
            .count(),
    }
}

impl Answer {
    /// The better of two answers.
    fn max_with(self, other: Answer) -> Answer {
        if other.halves() > self.halves() {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_matcher() -> Matcher {
        Matcher::new(crate::db::Snapshot::default())
    }

    #[test]
    fn the_questionnaire_has_four_questions_per_area_with_valid_references() {
        assert_eq!(QUESTIONS.len(), 24);
        for area in Area::ALL {
            assert_eq!(QUESTIONS.iter().filter(|q| q.area == area).count(), 4);
        }
        let catalog: Vec<&str> = crate::isms::CATALOG.iter().map(|c| c.id).collect();
        for q in QUESTIONS {
            assert!(
                catalog.contains(&q.isms),
                "{}: {} not in ISMS-P",
                q.id,
                q.isms
            );
            assert!((1..=3).contains(&q.weight));
        }
        let mut ids: Vec<&str> = QUESTIONS.iter().map(|q| q.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), QUESTIONS.len(), "question ids are unique");
    }

    #[test]
    fn all_yes_scores_100_and_leaves_nothing_to_do() {
        let answers = QUESTIONS
            .iter()
            .map(|q| (q.id.to_owned(), Answer::Yes))
            .collect();
        let a = assess(&empty_matcher(), "Acme", &answers, &[], Exposure::Unknown);
        assert_eq!(a.overall, 100);
        assert!(a.steps.is_empty());
        assert_eq!(a.unanswered, 0);
    }

    #[test]
    fn weights_order_the_steps_and_partly_earns_half() {
        let mut answers: BTreeMap<String, Answer> = QUESTIONS
            .iter()
            .map(|q| (q.id.to_owned(), Answer::Yes))
            .collect();
        answers.insert("backup-isolated".into(), Answer::No);
        answers.insert("backup-protected".into(), Answer::Partly);
        let a = assess(&empty_matcher(), "Acme", &answers, &[], Exposure::Unknown);
        let backup = a.areas.iter().find(|s| s.area == Area::Backup).unwrap();
        // weights 3+3+2+1 = 9; earned 3+0+2+0.5 = 5.5 → 61.
        assert_eq!(backup.score, 61);
        assert_eq!(a.steps[0].question, "backup-isolated");
        assert_eq!(a.steps[1].question, "backup-protected");
    }

    #[test]
    fn unknown_question_ids_are_refused() {
        let answers = BTreeMap::from([("mfa".to_owned(), Answer::Yes)]);
        assert!(check_answers(&answers).unwrap_err().contains("'mfa'"));
    }
}
