//! Roles and the principal a request acts as.
//!
//! | role | reads | changes |
//! |---|---|---|
//! | `admin` | every institution | everything, users and tokens included |
//! | `center` (center analyst) | every institution | alerts, incidents, playbooks, block lists |
//! | `institution` (institution analyst) | its own institution only | its own institution's alerts and incidents |
//! | `viewer` | every institution, or one if bound to it | nothing |
//! | `partner` (a partner organisation) | nothing here: only the TAXII collections it was granted | only the TAXII collections it was granted |
//!
//! A partner is outside the control center: it never reads an institution's data. Every
//! check below refuses it, the REST API refuses its credentials outright, and the TAXII
//! server decides per collection from the grants kept in the intel store.
//!
//! Isolation is decided here and passed to the stores as a tenant filter: a handler
//! asks [`Principal::read_scope`] which tenants a request may see, and the store query
//! carries that filter.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Center,
    Institution,
    Viewer,
    Partner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Center,
        Role::Institution,
        Role::Viewer,
        Role::Partner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Center => "center",
            Role::Institution => "institution",
            Role::Viewer => "viewer",
            Role::Partner => "partner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether `tenant` fits the role: an institution analyst needs one, admins and
    /// center analysts see every institution and take none, a viewer may be either.
    pub fn check_tenant(self, tenant: Option<&str>) -> Result<(), String> {
        match (self, tenant) {
            (Role::Institution, None) => {
                Err("the institution role needs --tenant: the institution it may see".into())
            }
            (Role::Admin | Role::Center, Some(_)) => Err(format!(
                "the {} role sees every institution; drop --tenant or use the institution role",
                self.as_str()
            )),
            (Role::Partner, Some(_)) => Err(
                "a partner sees no institution; drop --tenant (its TAXII collections are granted with haechi intel partner add)".into(),
            ),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person logged in with a session cookie.
    User,
    /// An API token from the access database.
    Token,
    /// A token from the configuration file or `<data_dir>/api-token`.
    ConfigToken,
}

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The user or token name (audit records say `user:NAME` or `token:NAME`).
    pub name: String,
    pub role: Role,
    /// The one institution this principal may see (`None`: all).
    pub tenant: Option<String>,
}

/// A refusal, to be answered with 403 and this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Principal {
    /// How the audit log names this principal.
    pub fn actor(&self) -> String {
        let kind = match self.kind {
            PrincipalKind::User => "user",
            PrincipalKind::Token => "token",
            PrincipalKind::ConfigToken => "config-token",
        };
        format!("{kind}:{}", self.name)
    }

    /// The tenant a read is restricted to: the principal's own, or the one asked for
    /// (`None`: every institution). Asking for another institution is refused.
    pub fn read_scope(&self, asked: Option<&str>) -> Result<Option<String>, Denied> {
        self.refuse_partner()?;
        match (&self.tenant, asked) {
            (Some(own), Some(a)) if own != a => Err(Denied(format!(
                "{} may only see institution '{own}', not '{a}'",
                self.actor()
            ))),
            (Some(own), _) => Ok(Some(own.clone())),
            (None, a) => Ok(a.map(str::to_owned)),
        }
    }

    /// Whether this principal may see data of `tenant`.
    pub fn sees(&self, tenant: &str) -> bool {
        self.role != Role::Partner && self.tenant.as_deref().is_none_or(|own| own == tenant)
    }

    /// Refuses read-only principals.
    pub fn require_write(&self) -> Result<(), Denied> {
        self.refuse_partner()?;
        if self.role == Role::Viewer {
            return Err(Denied(format!("{} is read-only (viewer)", self.actor())));
        }
        Ok(())
    }

    /// Refuses everyone but center-wide analysts and administrators (what changes every
    /// institution at once: rules, playbooks, block lists).
    pub fn require_center(&self) -> Result<(), Denied> {
        match self.role {
            Role::Admin | Role::Center if self.tenant.is_none() => Ok(()),
            _ => Err(Denied(format!(
                "{} ({}) may not do this: it needs a center analyst or an administrator",
                self.actor(),
                self.role
            ))),
        }
    }

    /// Refuses everyone but administrators (users, tokens, the audit log).
    pub fn require_admin(&self) -> Result<(), Denied> {
        if self.role == Role::Admin {
            return Ok(());
        }
        Err(Denied(format!(
            "{} ({}) may not do this: it needs an administrator",
            self.actor(),
            self.role
        )))
    }

    /// Refuses partner organisations: they exist for the TAXII server only.
    pub fn refuse_partner(&self) -> Result<(), Denied> {
        if self.role == Role::Partner {
            return Err(Denied(format!(
                "{} is a partner organisation: it may use the TAXII server only",
                self.actor()
            )));
        }
        Ok(())
    }

    /// Whether this principal may change data of `tenant`.
    pub fn require_write_to(&self, tenant: &str) -> Result<(), Denied> {
        self.require_write()?;
        if !self.sees(tenant) {
            return Err(Denied(format!(
                "{} may not change data of institution '{tenant}'",
                self.actor()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: Role, tenant: Option<&str>) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            name: "kim".into(),
            role,
            tenant: tenant.map(str::to_owned),
        }
    }

    #[test]
    fn an_institution_analyst_reads_only_its_own_institution() {
        let analyst = p(Role::Institution, Some("seoul"));
        assert_eq!(analyst.read_scope(None).unwrap(), Some("seoul".into()));
        assert_eq!(
            analyst.read_scope(Some("seoul")).unwrap(),
            Some("seoul".into())
        );
        assert!(
            analyst
                .read_scope(Some("busan"))
                .unwrap_err()
                .0
                .contains("busan")
        );
        assert!(analyst.require_write_to("busan").is_err());
        assert!(analyst.require_write_to("seoul").is_ok());
        assert!(analyst.require_center().is_err());
    }

    #[test]
    fn center_roles_read_everything_and_viewers_change_nothing() {
        let center = p(Role::Center, None);
        assert_eq!(center.read_scope(None).unwrap(), None);
        assert_eq!(
            center.read_scope(Some("busan")).unwrap(),
            Some("busan".into())
        );
        assert!(center.require_center().is_ok() && center.require_admin().is_err());
        let viewer = p(Role::Viewer, None);
        assert!(viewer.require_write().is_err() && viewer.require_center().is_err());
        assert!(p(Role::Admin, None).require_admin().is_ok());
    }

    #[test]
    fn roles_check_their_tenant() {
        assert!(Role::Institution.check_tenant(None).is_err());
        assert!(Role::Center.check_tenant(Some("x")).is_err());
        assert!(Role::Viewer.check_tenant(Some("x")).is_ok());
        assert!(Role::Viewer.check_tenant(None).is_ok());
        assert_eq!(Role::parse("center"), Some(Role::Center));
        assert!(Role::Partner.check_tenant(Some("x")).is_err());
    }

    #[test]
    fn a_partner_reads_and_changes_nothing_of_the_center() {
        let partner = p(Role::Partner, None);
        assert!(partner.read_scope(None).is_err());
        assert!(partner.read_scope(Some("seoul")).is_err());
        assert!(!partner.sees("seoul"));
        assert!(partner.require_write().is_err());
        assert!(partner.require_write_to("seoul").is_err());
        assert!(partner.require_center().is_err() && partner.require_admin().is_err());
    }
}
