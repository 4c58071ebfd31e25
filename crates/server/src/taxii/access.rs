//! Who a TAXII request comes from, and what it may read and write.
//!
//! | caller | collections | TLP received | writes | deletes |
//! |---|---|---|---|---|
//! | administrator, center analyst | all | every level (the hub is theirs) | all | anything |
//! | viewer (center-wide) | all | every level | none | none |
//! | institution analyst, or a viewer bound to an institution | all, read-only | up to AMBER (the center's constituents are AMBER's "clients"; AMBER+STRICT stays in the center) | none | none |
//! | partner organisation | those granted by `haechi intel partner add` | up to its `--tlp-max`, never RED, plus what it shared itself | granted ones | only what it shared |
//!
//! Credentials: `Authorization: Basic` (any user, partners included) or `Bearer` (API
//! tokens). A password check costs an Argon2 hash, and a TAXII client sends the password
//! with every request, so a successful check is remembered for [`CREDENTIAL_TTL`] under
//! the SHA-256 of the name and password, with the user's credential stamp (stored hash,
//! role, tenant, enabled). Each use reads the stamp again (one indexed read): a disabled
//! user, a changed password or role takes effect at once. Failures are never cached and
//! count towards the lock-out.

use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine;
use haechi_access::secret::sha256_hex;
use haechi_access::{AuthOutcome, LoginOutcome, Principal, Role};
use haechi_intel::Tlp;
use haechi_intel::store::{Audience, Partner};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a successful basic-authentication check is remembered.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(60);
/// The most remembered credentials (the cache is emptied when full).
const CREDENTIAL_CACHE_MAX: usize = 4096;
/// The longest `Authorization` header read.
const MAX_AUTHORIZATION: usize = 1024;

/// Recently verified basic credentials.
#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<String, Remembered>>,
}

/// A verified password: who it is, and the credential stamp it was verified against.
struct Remembered {
    principal: Principal,
    stamp: String,
    at: Instant,
}

impl CredentialCache {
    fn get(&self, key: &str) -> Option<(Principal, String)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|r| r.at.elapsed() < CREDENTIAL_TTL)
            .map(|r| (r.principal.clone(), r.stamp.clone()))
    }

    fn put(&self, key: String, principal: Principal, stamp: String) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CREDENTIAL_CACHE_MAX {
            entries.clear();
        }
        let at = Instant::now();
        entries.insert(
            key,
            Remembered {
                principal,
                stamp,
                at,
            },
        );
    }

    fn forget(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// A refused TAXII request (answered as a TAXII error resource).
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

/// The authenticated caller of a TAXII request and its entitlements.
#[derive(Debug, Clone)]
pub struct Reader {
    pub principal: Principal,
    /// A partner's grants (`None` for the center's own people and tokens).
    pub partner: Option<Partner>,
}

impl Reader {
    /// The control center's administrators and center analysts: everything.
    fn is_owner(&self) -> bool {
        matches!(self.principal.role, Role::Admin | Role::Center) && self.principal.tenant.is_none()
    }

    /// Whether the caller may read a collection.
    pub fn can_read(&self, collection_id: &str) -> bool {
        match self.principal.role {
            Role::Partner => self
                .partner
                .as_ref()
                .and_then(|p| p.grant(collection_id))
                .is_some_and(|g| g.read),
            _ => true,
        }
    }

    /// Whether the caller may add objects to a collection.
    pub fn can_write(&self, collection_id: &str) -> bool {
        match self.principal.role {
            Role::Partner => self
                .partner
                .as_ref()
                .and_then(|p| p.grant(collection_id))
                .is_some_and(|g| g.write),
            _ => self.is_owner(),
        }
    }

    /// Whom a listing is for: `None` for the hub's owner and center-wide viewers (every
    /// level), otherwise the TLP maximum and the caller's own objects.
    pub fn audience(&self) -> Option<Audience> {
        let own = Some(self.principal.actor());
        match self.principal.role {
            Role::Partner => Some(Audience {
                // A partner without an entry has no grants either; CLEAR is the floor.
                tlp_max: self.partner.as_ref().map_or(Tlp::Clear, |p| p.tlp_max),
                own,
            }),
            Role::Admin | Role::Center | Role::Viewer if self.principal.tenant.is_none() => None,
            _ => Some(Audience {
                tlp_max: Tlp::Amber,
                own,
            }),
        }
    }

    /// What a delete by this caller is limited to: `None` for the owner (anything),
    /// the caller's own objects for a partner.
    pub fn delete_scope(&self) -> Option<String> {
        (!self.is_owner()).then(|| self.principal.actor())
    }

    /// The `added_by` of what this caller stores.
    pub fn source(&self) -> String {
        self.principal.actor()
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let principal = authenticate(parts, state).await?;
        let partner = match (&state.taxii, principal.role) {
            (Some(taxii), Role::Partner) => {
                let store = taxii.store.clone();
                let name = principal.name.clone();
                tokio::task::spawn_blocking(move || store.partner(&name))
                    .await
                    .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
                    .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            }
            _ => None,
        };
        Ok(Reader { principal, partner })
    }
}

/// The principal of `Authorization: Basic …` or `Bearer …`.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, Refusal> {
    let unauthorized = |m: &str| Refusal::new(StatusCode::UNAUTHORIZED, m);
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            "missing credentials: use HTTP basic authentication (a partner's user and password) or a bearer token",
        ));
    };
    let value = value
        .to_str()
        .ok()
        .filter(|v| v.len() <= MAX_AUTHORIZATION)
        .ok_or_else(|| unauthorized("the Authorization header is not readable"))?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        return crate::auth::bearer(state, token.trim().to_owned())
            .await
            .map(|caller| caller.principal)
            .map_err(|_| unauthorized("the bearer token is unknown, expired or revoked"));
    }
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return Err(unauthorized(
            "the Authorization header must be `Basic …` or `Bearer …`",
        ));
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| unauthorized("the basic credentials are not base64 of `user:password`"))?;
    let Some((name, password)) = decoded.split_once(':') else {
        return Err(unauthorized(
            "the basic credentials are not `user:password`",
        ));
    };
    basic(state, name, password).await
}

/// The credential stamp of a user now (`None`: unknown or disabled).
async fn stamp_of(state: &AppState, name: &str) -> Result<Option<String>, Refusal> {
    let (access, name) = (state.access.clone(), name.to_owned());
    tokio::task::spawn_blocking(move || access.credential_stamp(&name))
        .await
        .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// Checks a user name and password, remembering a success for [`CREDENTIAL_TTL`] as long
/// as the user's credential stamp stays the same.
async fn basic(state: &AppState, name: &str, password: &str) -> Result<Principal, Refusal> {
    let key = sha256_hex(format!("{name}\0{password}").as_bytes());
    let cache = state.taxii.as_ref().map(|t| t.credentials.clone());
    if let Some((principal, stamp)) = cache.as_ref().and_then(|c| c.get(&key)) {
        if stamp_of(state, name).await?.as_deref() == Some(stamp.as_str()) {
            return Ok(principal);
        }
        if let Some(c) = &cache {
            c.forget(&key); // disabled, or its password or role changed: check afresh
        }
    }
    // Read before the check: a change during it makes the remembered stamp stale.
    let stamp = stamp_of(state, name).await?;
    let access = state.access.clone();
    let (user, pass) = (name.to_owned(), password.to_owned());
    let outcome = tokio::task::spawn_blocking(move || access.authenticate(&user, &pass))
        .await
        .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match outcome {
        AuthOutcome::Ok(principal) => {
            if let (Some(c), Some(stamp)) = (cache, stamp) {
                c.put(key, principal.clone(), stamp);
            }
            Ok(principal)
        }
        AuthOutcome::Refused(LoginOutcome::Locked(_)) => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "too many failed attempts: this user is locked for a while",
        )),
        AuthOutcome::Refused(LoginOutcome::Disabled) => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "this account is disabled",
        )),
        AuthOutcome::Refused(_) => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "wrong user name or password",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_access::PrincipalKind;
    use haechi_intel::store::{Collection, Grant};

    fn reader(role: Role, tenant: Option<&str>, partner: Option<Partner>) -> Reader {
        Reader {
            principal: Principal {
                kind: PrincipalKind::User,
                name: "acme".into(),
                role,
                tenant: tenant.map(str::to_owned),
            },
            partner,
        }
    }

    fn collection(id: &str) -> Collection {
        Collection {
            id: id.into(),
            name: id.into(),
            title: id.into(),
            description: String::new(),
        }
    }

    #[test]
    fn partners_get_their_grants_and_tlp_and_the_center_gets_everything() {
        let partner = Partner {
            name: "acme".into(),
            tlp_max: Tlp::Green,
            grants: vec![
                Grant {
                    collection: collection("shared"),
                    read: true,
                    write: false,
                },
                Grant {
                    collection: collection("inbox"),
                    read: false,
                    write: true,
                },
            ],
        };
        let p = reader(Role::Partner, None, Some(partner));
        assert!(p.can_read("shared") && !p.can_write("shared"));
        assert!(!p.can_read("inbox") && p.can_write("inbox"));
        assert!(!p.can_read("other") && !p.can_write("other"));
        let audience = p.audience().unwrap();
        assert_eq!(audience.tlp_max, Tlp::Green);
        assert_eq!(audience.own.as_deref(), Some("user:acme"));
        assert_eq!(p.delete_scope().as_deref(), Some("user:acme"));

        let ungranted = reader(Role::Partner, None, None);
        assert!(!ungranted.can_read("shared") && !ungranted.can_write("shared"));

        let center = reader(Role::Center, None, None);
        assert!(center.can_read("x") && center.can_write("x"));
        assert!(center.audience().is_none() && center.delete_scope().is_none());

        let institution = reader(Role::Institution, Some("seoul"), None);
        assert!(institution.can_read("x") && !institution.can_write("x"));
        assert_eq!(institution.audience().unwrap().tlp_max, Tlp::Amber);

        let viewer = reader(Role::Viewer, None, None);
        assert!(!viewer.can_write("x") && viewer.audience().is_none());
    }
}
