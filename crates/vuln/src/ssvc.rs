//! SSVC decisions: CISA's coordinator tree (version 2.0.3 of the CERT/CC decision table)
//! from exploitation, automatability, technical impact and mission and well-being
//! impact, the last derived from the asset's exposure. The inputs come from CISA's
//! Vulnrichment records and the KEV catalog; missing inputs take the cautious value and
//! say so, so a decision is never better than the evidence.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Exploitation {
    None,
    #[serde(rename = "public poc")]
    PublicPoc,
    Active,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TechnicalImpact {
    Partial,
    Total,
}

/// Mission and well-being impact of the system the component runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissionImpact {
    Low,
    Medium,
    High,
}

/// Where the system is reachable from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    InternetFacing,
    Internal,
    #[default]
    Unknown,
}

impl Exposure {
    pub fn parse(s: &str) -> Option<Exposure> {
        match s {
            "internet-facing" | "internet" | "public" => Some(Exposure::InternetFacing),
            "internal" | "private" => Some(Exposure::Internal),
            "unknown" | "" => Some(Exposure::Unknown),
            _ => None,
        }
    }

    /// An internet-facing system's failure reaches the public: high; an internal one
    /// medium; an unknown one is treated as medium, not low.
    fn mission_impact(self) -> MissionImpact {
        match self {
            Exposure::InternetFacing => MissionImpact::High,
            Exposure::Internal | Exposure::Unknown => MissionImpact::Medium,
        }
    }
}

/// The four outcomes, in increasing urgency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Decision {
    Track,
    #[serde(rename = "Track*")]
    TrackStar,
    Attend,
    Act,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Track => "Track",
            Decision::TrackStar => "Track*",
            Decision::Attend => "Attend",
            Decision::Act => "Act",
        }
    }
}

/// What is known about a CVE's exploitation (from Vulnrichment), before the asset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KnownInputs {
    pub exploitation: Option<String>,
    pub automatable: Option<String>,
    pub technical_impact: Option<String>,
}

/// A decision with the path through the tree that produced it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub decision: Decision,
    pub exploitation: Exploitation,
    pub automatable: bool,
    pub technical_impact: TechnicalImpact,
    pub mission_impact: MissionImpact,
    /// Inputs that were not known and took the cautious value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumed: Vec<String>,
}

/// Decides. A KEV listing means active exploitation whatever Vulnrichment says.
pub fn decide(known: &KnownInputs, in_kev: bool, exposure: Exposure) -> Outcome {
    let mut assumed = Vec::new();
    let exploitation = if in_kev {
        Exploitation::Active
    } else {
        match known.exploitation.as_deref() {
            Some("active") => Exploitation::Active,
            Some("poc" | "public poc") => Exploitation::PublicPoc,
            Some("none") => Exploitation::None,
            _ => {
                assumed.push("exploitation".to_owned());
                Exploitation::None
            }
        }
    };
    let automatable = match known.automatable.as_deref() {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            assumed.push("automatable".to_owned());
            true
        }
    };
    let technical_impact = match known.technical_impact.as_deref() {
        Some("total") => TechnicalImpact::Total,
        Some("partial") => TechnicalImpact::Partial,
        _ => {
            assumed.push("technical_impact".to_owned());
            TechnicalImpact::Total
        }
    };
    if exposure == Exposure::Unknown {
        assumed.push("mission_impact".to_owned());
    }
    let mission_impact = exposure.mission_impact();
    Outcome {
        decision: table(exploitation, automatable, technical_impact, mission_impact),
        exploitation,
        automatable,
        technical_impact,
        mission_impact,
        assumed,
    }
}

/// CISA coordinator decision table 2.0.3 (CERT/CC SSVC `data/csv/cisa/`), row by row.
pub fn table(e: Exploitation, automatable: bool, t: TechnicalImpact, m: MissionImpact) -> Decision {
    use Decision::*;
    use MissionImpact::{High, Low, Medium};
    use TechnicalImpact::{Partial, Total};
    match (e, automatable, t, m) {
        (Exploitation::None, false, Partial, _) => Track,
        (Exploitation::None, false, Total, Low | Medium) => Track,
        (Exploitation::None, false, Total, High) => TrackStar,
        (Exploitation::None, true, _, Low | Medium) => Track,
        (Exploitation::None, true, _, High) => Attend,
        (Exploitation::PublicPoc, false, Partial, Low | Medium) => Track,
        (Exploitation::PublicPoc, false, Partial, High) => TrackStar,
        (Exploitation::PublicPoc, false, Total, Low) => Track,
        (Exploitation::PublicPoc, false, Total, Medium) => TrackStar,
        (Exploitation::PublicPoc, false, Total, High) => Attend,
        (Exploitation::PublicPoc, true, Partial, Low | Medium) => Track,
        (Exploitation::PublicPoc, true, Partial, High) => Attend,
        (Exploitation::PublicPoc, true, Total, Low) => Track,
        (Exploitation::PublicPoc, true, Total, Medium) => TrackStar,
        (Exploitation::PublicPoc, true, Total, High) => Attend,
        (Exploitation::Active, false, Partial, Low | Medium) => Track,
        (Exploitation::Active, false, Partial, High) => Attend,
        (Exploitation::Active, false, Total, Low) => Track,
        (Exploitation::Active, false, Total, Medium) => Attend,
        (Exploitation::Active, false, Total, High) => Act,
        (Exploitation::Active, true, Partial, Low | Medium) => Attend,
        (Exploitation::Active, true, Partial, High) => Act,
        (Exploitation::Active, true, Total, Low) => Attend,
        (Exploitation::Active, true, Total, Medium | High) => Act,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kev_on_an_internet_facing_system_is_act() {
        let known = KnownInputs {
            exploitation: Some("none".into()),
            automatable: Some("yes".into()),
            technical_impact: Some("total".into()),
        };
        let o = decide(&known, true, Exposure::InternetFacing);
        assert_eq!(o.decision, Decision::Act);
        assert!(o.assumed.is_empty());
        let o = decide(&KnownInputs::default(), false, Exposure::Unknown);
        assert_eq!(o.decision, Decision::Track);
        assert_eq!(o.assumed.len(), 4);
    }
}
