//! The access database: users, API tokens, sessions and the audit log.

use crate::audit::{self, AuditEntry, AuditRecord, ChainReport};
use crate::role::{Principal, PrincipalKind, Role};
use crate::secret::{random_token, sha256_hex};
use crate::{AccessError, Result, now_secs, password};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    tenant        TEXT,
    password      TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER NOT NULL DEFAULT 0,
    created       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL,
    tenant     TEXT,
    hash       TEXT    NOT NULL UNIQUE,
    created    INTEGER NOT NULL,
    expires    INTEGER,
    revoked    INTEGER,
    created_by TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    hash     TEXT    PRIMARY KEY,
    user_id  INTEGER NOT NULL REFERENCES users(id),
    csrf     TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    expires  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq     INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    before  TEXT,
    after   TEXT,
    prev    TEXT    NOT NULL,
    hash    TEXT    NOT NULL
);
-- Changes a person began whose audit record is not written yet (kept elsewhere: alerts,
-- incidents, block lists...). A row left behind by a crash becomes an audit record of an
-- interrupted change at the next start.
CREATE TABLE IF NOT EXISTS audit_intents (
    id      INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// Consecutive failed logins after which a user is locked out for [`LOCKOUT`].
pub const LOCK_AFTER: i64 = 5;
/// How long a lock-out lasts.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// A user to create.
#[derive(Debug, Clone)]
pub struct UserSpec {
    pub name: String,
    pub role: Role,
    pub tenant: Option<String>,
    pub password: String,
}

/// A user as listed (never with the password hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub tenant: Option<String>,
    pub disabled: bool,
    pub created: i64,
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub name: String,
    pub role: Role,
    pub tenant: Option<String>,
    /// Seconds since the epoch after which the token no longer works.
    pub expires: Option<i64>,
}

/// A token as listed (never with its secret or hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub tenant: Option<String>,
    pub created: i64,
    pub expires: Option<i64>,
    pub revoked: Option<i64>,
    pub created_by: String,
}

/// A token just created: the secret exists only here.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub info: TokenInfo,
    pub secret: String,
}

/// A session just opened by a login.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie value (only its hash is stored).
    pub id: String,
    /// The token changes must carry in `X-CSRF-Token`.
    pub csrf: String,
    pub expires: i64,
    pub principal: Principal,
}

/// A live session found by its cookie.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub principal: Principal,
    pub csrf: String,
    pub expires: i64,
}

/// The answer to a login.
#[derive(Debug)]
pub enum LoginOutcome {
    Ok(Session),
    /// Unknown user or wrong password (deliberately not told apart).
    Invalid,
    /// Too many failures: locked until this time.
    Locked(i64),
    Disabled,
    /// This account may not log in this way (the reason says how it may).
    Refused(String),
}

/// The answer to a password presented with one request.
#[derive(Debug)]
pub enum AuthOutcome {
    Ok(Principal),
    /// Why not, as for a login.
    Refused(LoginOutcome),
}

/// A password check: the user's row id and who they are, or the refusal.
enum Checked {
    Ok(i64, Principal),
    Refused(LoginOutcome),
}

/// What a presented API token turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenLookup {
    Valid(Principal),
    Expired(String),
    Revoked(String),
    Unknown,
}

/// name, role, tenant, expires, revoked.
type TokenRow = (String, String, Option<String>, Option<i64>, Option<i64>);

/// The access database.
pub struct AccessStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> AccessError + '_ {
    move |source| AccessError::Sql {
        path: path.display().to_string(),
        source,
    }
}

/// A user or token name: 1–64 characters of `a-z A-Z 0-9 . _ - @`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

fn check_name(kind: &str, name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(AccessError::Invalid(format!(
            "{kind} name '{name}' is not valid: use 1-64 characters of a-z, A-Z, 0-9, '.', '_', '-', '@'"
        )))
    }
}

fn role_of(s: String) -> Role {
    // Only this code writes the column; an unknown value can only be tampering, and
    // the least privilege is the safe reading.
    Role::parse(&s).unwrap_or(Role::Viewer)
}

impl AccessStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<AccessStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| AccessError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(sql(path))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(sql(path))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        )
        .map_err(sql(path))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql(path))?;
        if version > SCHEMA_VERSION {
            return Err(AccessError::Invalid(format!(
                "{} has schema version {version}, newer than this Haechi understands ({SCHEMA_VERSION}); upgrade Haechi",
                path.display()
            )));
        }
        conn.execute_batch(SCHEMA).map_err(sql(path))?;
        conn.execute_batch(&format!("PRAGMA user_version={SCHEMA_VERSION}"))
            .map_err(sql(path))?;
        restrict_permissions(path);
        Ok(AccessStore {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        })
    }

    /// `<data_dir>/state/access.db`.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("state").join("access.db")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in a write transaction that also appends `entry` to the audit log: the
    /// change and its record commit together or not at all.
    fn audited<T>(
        &self,
        entry: impl FnOnce(&T) -> AuditEntry,
        f: impl FnOnce(&rusqlite::Transaction) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(&self.path))?;
        let value = f(&tx)?;
        audit::append(&tx, &entry(&value)).map_err(sql(&self.path))?;
        tx.commit().map_err(sql(&self.path))?;
        Ok(value)
    }

    // ---- users ----

    pub fn add_user(&self, spec: &UserSpec, actor: &str) -> Result<UserInfo> {
        check_name("user", &spec.name)?;
        spec.role
            .check_tenant(spec.tenant.as_deref())
            .map_err(AccessError::Invalid)?;
        if let Some(w) = password::weakness(&spec.password) {
            return Err(AccessError::Invalid(w));
        }
        let hash = password::hash(&spec.password);
        let now = now_secs();
        self.audited(
            |u: &UserInfo| AuditEntry::new(actor, "user.add", format!("user:{}", u.name)).after(json!(u)),
            |tx| {
                let exists: bool = tx
                    .query_row("SELECT 1 FROM users WHERE name = ?1", [&spec.name], |_| Ok(true))
                    .optional()
                    .map_err(sql(&self.path))?
                    .unwrap_or(false);
                if exists {
                    return Err(AccessError::Exists(format!("user '{}'", spec.name)));
                }
                tx.execute(
                    "INSERT INTO users (name, role, tenant, password, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![spec.name, spec.role.as_str(), spec.tenant, hash, now],
                )
                .map_err(sql(&self.path))?;
                Ok(UserInfo {
                    id: tx.last_insert_rowid(),
                    name: spec.name.clone(),
                    role: spec.role,
                    tenant: spec.tenant.clone(),
                    disabled: false,
                    created: now,
                })
            },
        )
    }

    pub fn users(&self) -> Result<Vec<UserInfo>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT id, name, role, tenant, disabled, created FROM users ORDER BY name")
            .map_err(sql(&self.path))?;
        stmt.query_map([], |r| {
            Ok(UserInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                role: role_of(r.get(2)?),
                tenant: r.get(3)?,
                disabled: r.get::<_, i64>(4)? != 0,
                created: r.get(5)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql(&self.path))
    }

    pub fn user(&self, name: &str) -> Result<Option<UserInfo>> {
        Ok(self.users()?.into_iter().find(|u| u.name == name))
    }

    /// What a remembered password check depends on: the user's stored password hash,
    /// role and tenant, while the user is enabled (`None`: unknown or disabled). A cache
    /// of verified passwords compares it on every use (one indexed read, no Argon2), so
    /// disabling a user, changing a password or a role takes effect at once.
    pub fn credential_stamp(&self, name: &str) -> Result<Option<String>> {
        let conn = self.lock();
        conn.query_row(
            "SELECT password, role, tenant FROM users WHERE name = ?1 AND disabled = 0",
            [name],
            |r| {
                let (hash, role, tenant): (String, String, Option<String>) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(format!("{hash}\0{role}\0{}", tenant.unwrap_or_default()))
            },
        )
        .optional()
        .map_err(sql(&self.path))
    }

    /// Disables (or enables) a user; a disabled user's sessions end at once.
    pub fn set_disabled(&self, name: &str, disabled: bool, actor: &str) -> Result<UserInfo> {
        let before = self
            .user(name)?
            .ok_or_else(|| AccessError::NotFound(format!("user '{name}'")))?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        self.audited(
            |u: &UserInfo| {
                AuditEntry::new(actor, action, format!("user:{name}"))
                    .before(json!(before))
                    .after(json!(u))
            },
            |tx| {
                tx.execute(
                    "UPDATE users SET disabled = ?1, failed_logins = 0, locked_until = 0 WHERE name = ?2",
                    params![disabled as i64, name],
                )
                .map_err(sql(&self.path))?;
                if disabled {
                    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [before.id])
                        .map_err(sql(&self.path))?;
                }
                Ok(UserInfo {
                    disabled,
                    ..before.clone()
                })
            },
        )
    }

    /// Sets a new password; the user's sessions end.
    pub fn set_password(&self, name: &str, new_password: &str, actor: &str) -> Result<()> {
        if let Some(w) = password::weakness(new_password) {
            return Err(AccessError::Invalid(w));
        }
        let user = self
            .user(name)?
            .ok_or_else(|| AccessError::NotFound(format!("user '{name}'")))?;
        let hash = password::hash(new_password);
        self.audited(
            |_| AuditEntry::new(actor, "user.password", format!("user:{name}")),
            |tx| {
                tx.execute(
                    "UPDATE users SET password = ?1, failed_logins = 0, locked_until = 0 WHERE id = ?2",
                    params![hash, user.id],
                )
                .map_err(sql(&self.path))?;
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user.id])
                    .map_err(sql(&self.path))?;
                Ok(())
            },
        )
    }

    /// At first start: creates the administrator `admin` when there is no user at all,
    /// with `password` or a generated one, which is returned (to be shown once).
    pub fn ensure_admin(&self, password: Option<&str>) -> Result<Option<String>> {
        if !self.users()?.is_empty() {
            return Ok(None);
        }
        let password = password
            .map(str::to_owned)
            .unwrap_or_else(crate::secret::random_password);
        let spec = UserSpec {
            name: "admin".into(),
            role: Role::Admin,
            tenant: None,
            password: password.clone(),
        };
        match self.add_user(&spec, "system") {
            Ok(_) => Ok(Some(password)),
            // Another process created it between the check and the insert.
            Err(AccessError::Exists(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    // ---- sessions ----

    /// Checks a password and opens a session that lasts `ttl`. Five failures in a row
    /// lock the user out for [`LOCKOUT`]; every outcome is audited. Partner
    /// organisations have no session: they use the TAXII server with HTTP basic
    /// authentication ([`AccessStore::authenticate`]).
    pub fn login(&self, name: &str, password_given: &str, ttl: Duration) -> Result<LoginOutcome> {
        let (id, principal) = match self.check_password(name, password_given)? {
            Checked::Ok(id, principal) => (id, principal),
            Checked::Refused(outcome) => return Ok(outcome),
        };
        if principal.role == Role::Partner {
            let actor = format!("user:{name}");
            self.audit(
                &AuditEntry::new(&actor, "login.refused", &actor)
                    .after(json!({"reason": "partner organisations use the TAXII server"})),
            )?;
            return Ok(LoginOutcome::Refused(
                "a partner organisation has no console session: use the TAXII server (/taxii2/) with HTTP basic authentication".into(),
            ));
        }
        self.open_session(id, principal, ttl)
    }

    /// Checks a user's password for one request (HTTP basic authentication), without a
    /// session: the same lock-out as [`AccessStore::login`], and failures audited;
    /// successes are not (a TAXII client sends the password with every request).
    pub fn authenticate(&self, name: &str, password_given: &str) -> Result<AuthOutcome> {
        Ok(match self.check_password(name, password_given)? {
            Checked::Ok(id, principal) => {
                self.lock()
                    .execute(
                        "UPDATE users SET failed_logins = 0 WHERE id = ?1 AND failed_logins > 0",
                        [id],
                    )
                    .map_err(sql(&self.path))?;
                AuthOutcome::Ok(principal)
            }
            Checked::Refused(outcome) => AuthOutcome::Refused(outcome),
        })
    }

    /// The shared part of a login: lock-out, password, disabled; failures audited.
    fn check_password(&self, name: &str, password_given: &str) -> Result<Checked> {
        let now = now_secs();
        let row: Option<(i64, String, Option<String>, String, bool, i64)> = {
            let conn = self.lock();
            conn.query_row(
                "SELECT id, role, tenant, password, disabled, locked_until FROM users WHERE name = ?1",
                [name],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get::<_, i64>(4)? != 0,
                        r.get(5)?,
                    ))
                },
            )
            .optional()
            .map_err(sql(&self.path))?
        };
        let actor = format!("user:{name}");
        let Some((id, role, tenant, hash, disabled, locked_until)) = row else {
            // The same work as for a wrong password: timing does not tell names apart.
            password::verify(password_given, password::decoy_hash());
            self.audit(
                &AuditEntry::new("anonymous", "login.failed", actor)
                    .after(json!({"reason": "unknown user"})),
            )?;
            return Ok(Checked::Refused(LoginOutcome::Invalid));
        };
        if locked_until > now {
            self.audit(&AuditEntry::new(&actor, "login.locked", &actor))?;
            return Ok(Checked::Refused(LoginOutcome::Locked(locked_until)));
        }
        // Verified without holding the connection: Argon2 takes tens of milliseconds.
        let good = password::verify(password_given, &hash);
        if disabled {
            self.audit(&AuditEntry::new(&actor, "login.disabled", &actor))?;
            return Ok(Checked::Refused(LoginOutcome::Disabled));
        }
        if !good {
            let lock_until = now + LOCKOUT.as_secs() as i64;
            self.audited(
                |locked: &bool| {
                    AuditEntry::new(&actor, "login.failed", &actor)
                        .after(json!({"reason": "wrong password", "locked": locked}))
                },
                |tx| {
                    let failures: i64 = tx
                        .query_row(
                            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?1 RETURNING failed_logins",
                            [id],
                            |r| r.get(0),
                        )
                        .map_err(sql(&self.path))?;
                    let locked = failures >= LOCK_AFTER;
                    if locked {
                        tx.execute(
                            "UPDATE users SET locked_until = ?1, failed_logins = 0 WHERE id = ?2",
                            params![lock_until, id],
                        )
                        .map_err(sql(&self.path))?;
                    }
                    Ok(locked)
                },
            )?;
            return Ok(Checked::Refused(LoginOutcome::Invalid));
        }
        let principal = Principal {
            kind: PrincipalKind::User,
            name: name.to_owned(),
            role: role_of(role),
            tenant,
        };
        Ok(Checked::Ok(id, principal))
    }

    /// Opens a session for a user whose password was just checked.
    fn open_session(&self, id: i64, principal: Principal, ttl: Duration) -> Result<LoginOutcome> {
        let now = now_secs();
        let actor = principal.actor();
        let session = Session {
            id: random_token("hcs_"),
            csrf: random_token(""),
            expires: now + ttl.as_secs() as i64,
            principal,
        };
        self.audited(
            |_| AuditEntry::new(&actor, "login", &actor),
            |tx| {
                tx.execute("DELETE FROM sessions WHERE expires <= ?1", [now])
                    .map_err(sql(&self.path))?;
                tx.execute(
                    "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?1",
                    [id],
                )
                .map_err(sql(&self.path))?;
                tx.execute(
                    "INSERT INTO sessions (hash, user_id, csrf, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![sha256_hex(session.id.as_bytes()), id, session.csrf, now, session.expires],
                )
                .map_err(sql(&self.path))?;
                Ok(())
            },
        )?;
        Ok(LoginOutcome::Ok(session))
    }

    /// The live session of a cookie value (`None`: unknown, expired, or its user is
    /// disabled).
    pub fn session(&self, id: &str) -> Result<Option<SessionInfo>> {
        let conn = self.lock();
        conn.query_row(
            "SELECT u.name, u.role, u.tenant, s.csrf, s.expires FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.hash = ?1 AND s.expires > ?2 AND u.disabled = 0",
            params![sha256_hex(id.as_bytes()), now_secs()],
            |r| {
                Ok(SessionInfo {
                    principal: Principal {
                        kind: PrincipalKind::User,
                        name: r.get(0)?,
                        role: role_of(r.get(1)?),
                        tenant: r.get(2)?,
                    },
                    csrf: r.get(3)?,
                    expires: r.get(4)?,
                })
            },
        )
        .optional()
        .map_err(sql(&self.path))
    }

    /// Ends a session.
    pub fn logout(&self, id: &str, actor: &str) -> Result<()> {
        self.audited(
            |_| AuditEntry::new(actor, "logout", actor),
            |tx| {
                tx.execute(
                    "DELETE FROM sessions WHERE hash = ?1",
                    [sha256_hex(id.as_bytes())],
                )
                .map_err(sql(&self.path))?;
                Ok(())
            },
        )
    }

    // ---- tokens ----

    pub fn create_token(&self, spec: &TokenSpec, actor: &str) -> Result<NewToken> {
        check_name("token", &spec.name)?;
        spec.role
            .check_tenant(spec.tenant.as_deref())
            .map_err(AccessError::Invalid)?;
        let now = now_secs();
        if spec.expires.is_some_and(|e| e <= now) {
            return Err(AccessError::Invalid(
                "the token would expire before it is used".into(),
            ));
        }
        let secret = random_token("hct_");
        let info = self.audited(
            |t: &TokenInfo| {
                AuditEntry::new(actor, "token.create", format!("token:{}", t.name)).after(json!(t))
            },
            |tx| {
                let exists: bool = tx
                    .query_row("SELECT 1 FROM tokens WHERE name = ?1", [&spec.name], |_| {
                        Ok(true)
                    })
                    .optional()
                    .map_err(sql(&self.path))?
                    .unwrap_or(false);
                if exists {
                    return Err(AccessError::Exists(format!("token '{}'", spec.name)));
                }
                tx.execute(
                    "INSERT INTO tokens (name, role, tenant, hash, created, expires, created_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        spec.name,
                        spec.role.as_str(),
                        spec.tenant,
                        sha256_hex(secret.as_bytes()),
                        now,
                        spec.expires,
                        actor
                    ],
                )
                .map_err(sql(&self.path))?;
                Ok(TokenInfo {
                    id: tx.last_insert_rowid(),
                    name: spec.name.clone(),
                    role: spec.role,
                    tenant: spec.tenant.clone(),
                    created: now,
                    expires: spec.expires,
                    revoked: None,
                    created_by: actor.to_owned(),
                })
            },
        )?;
        Ok(NewToken { info, secret })
    }

    /// What a presented token is.
    pub fn token(&self, secret: &str) -> Result<TokenLookup> {
        let conn = self.lock();
        let row: Option<TokenRow> = conn
            .query_row(
                "SELECT name, role, tenant, expires, revoked FROM tokens WHERE hash = ?1",
                [sha256_hex(secret.as_bytes())],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(sql(&self.path))?;
        Ok(match row {
            None => TokenLookup::Unknown,
            Some((name, _, _, _, Some(_))) => TokenLookup::Revoked(name),
            Some((name, _, _, Some(e), None)) if e <= now_secs() => TokenLookup::Expired(name),
            Some((name, role, tenant, _, None)) => TokenLookup::Valid(Principal {
                kind: PrincipalKind::Token,
                name,
                role: role_of(role),
                tenant,
            }),
        })
    }

    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT id, name, role, tenant, created, expires, revoked, created_by FROM tokens ORDER BY id")
            .map_err(sql(&self.path))?;
        stmt.query_map([], |r| {
            Ok(TokenInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                role: role_of(r.get(2)?),
                tenant: r.get(3)?,
                created: r.get(4)?,
                expires: r.get(5)?,
                revoked: r.get(6)?,
                created_by: r.get(7)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql(&self.path))
    }

    /// Revokes a token by name; it stops working at once.
    pub fn revoke_token(&self, name: &str, actor: &str) -> Result<TokenInfo> {
        let before = self
            .tokens()?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| AccessError::NotFound(format!("token '{name}'")))?;
        if before.revoked.is_some() {
            return Err(AccessError::Invalid(format!(
                "token '{name}' is already revoked"
            )));
        }
        let now = now_secs();
        self.audited(
            |t: &TokenInfo| {
                AuditEntry::new(actor, "token.revoke", format!("token:{name}"))
                    .before(json!(before))
                    .after(json!(t))
            },
            |tx| {
                tx.execute(
                    "UPDATE tokens SET revoked = ?1 WHERE id = ?2",
                    params![now, before.id],
                )
                .map_err(sql(&self.path))?;
                Ok(TokenInfo {
                    revoked: Some(now),
                    ..before.clone()
                })
            },
        )
    }

    // ---- audit ----

    /// Appends one record (for changes kept elsewhere: alerts, incidents, playbooks).
    pub fn audit(&self, entry: &AuditEntry) -> Result<AuditRecord> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(&self.path))?;
        let record = audit::append(&tx, entry).map_err(sql(&self.path))?;
        tx.commit().map_err(sql(&self.path))?;
        Ok(record)
    }

    /// Records, durably, that `actor` begins a change kept in another database (so that it
    /// cannot go unaudited): [`AccessStore::audit_intended`] replaces the intent with the
    /// change's record; a crash in between leaves the intent for
    /// [`AccessStore::recover_intents`]. Returns the intent's id.
    pub fn intend(&self, actor: &str, action: &str, target: &str) -> Result<i64> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO audit_intents (time_ms, actor, action, target) VALUES (?1, ?2, ?3, ?4)",
            params![audit::now_ms(), actor, action, target],
        )
        .map_err(sql(&self.path))?;
        Ok(conn.last_insert_rowid())
    }

    /// Appends the records of an intended change and drops the intent, in one transaction.
    pub fn audit_intended(&self, intent: i64, entries: &[AuditEntry]) -> Result<Vec<AuditRecord>> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(&self.path))?;
        let records = entries
            .iter()
            .map(|e| audit::append(&tx, e))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql(&self.path))?;
        tx.execute("DELETE FROM audit_intents WHERE id = ?1", [intent])
            .map_err(sql(&self.path))?;
        tx.commit().map_err(sql(&self.path))?;
        Ok(records)
    }

    /// Drops an intent whose change did not happen (refused, not found, failed).
    pub fn drop_intent(&self, intent: i64) -> Result<()> {
        self.lock()
            .execute("DELETE FROM audit_intents WHERE id = ?1", [intent])
            .map_err(sql(&self.path))?;
        Ok(())
    }

    /// Turns every intent left by a process that stopped between a change and its record
    /// into an audit record of an interrupted change (the change may or may not have been
    /// applied); returns how many. `haechi serve` calls it at start.
    pub fn recover_intents(&self) -> Result<usize> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(&self.path))?;
        let left: Vec<(i64, i64, String, String, String)> = tx
            .prepare("SELECT id, time_ms, actor, action, target FROM audit_intents ORDER BY id")
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect()
            })
            .map_err(sql(&self.path))?;
        for (id, began_ms, actor, action, target) in &left {
            let entry = AuditEntry::new(actor, action, target).after(json!({
                "interrupted": "the process stopped after this change began and before its record was written: it may or may not have been applied",
                "began_ms": began_ms,
            }));
            audit::append(&tx, &entry).map_err(sql(&self.path))?;
            tx.execute("DELETE FROM audit_intents WHERE id = ?1", [id])
                .map_err(sql(&self.path))?;
        }
        tx.commit().map_err(sql(&self.path))?;
        Ok(left.len())
    }

    /// Records after sequence number `after_seq`, oldest first, at most `limit`.
    pub fn audit_records(&self, after_seq: i64, limit: usize) -> Result<Vec<AuditRecord>> {
        audit::list(&self.lock(), after_seq, limit).map_err(sql(&self.path))
    }

    /// Recomputes the whole chain.
    pub fn verify_audit(&self) -> Result<ChainReport> {
        audit::verify(&self.lock()).map_err(sql(&self.path))
    }
}

/// The database holds password hashes and token hashes: owner-only.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, AccessStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = AccessStore::open(&AccessStore::path_in(dir.path())).unwrap();
        (dir, store)
    }

    fn user(name: &str, role: Role, tenant: Option<&str>) -> UserSpec {
        UserSpec {
            name: name.into(),
            role,
            tenant: tenant.map(str::to_owned),
            password: "a long enough secret".into(),
        }
    }

    #[test]
    fn an_intent_becomes_a_record_once_whether_completed_or_left_by_a_crash() {
        let (_dir, s) = open();
        let done = s.intend("user:kim", "alert.close", "alerts:[1]").unwrap();
        let entry =
            AuditEntry::new("user:kim", "alert.close", "alert:1").after(json!({"state": "closed"}));
        s.audit_intended(done, &[entry]).unwrap();
        let refused = s
            .intend("user:kim", "incident.update", "incident:9")
            .unwrap();
        s.drop_intent(refused).unwrap();
        s.intend("user:lee", "blocklist.add", "blocklist:ips:203.0.113.5")
            .unwrap(); // the process stops here
        assert_eq!(s.recover_intents().unwrap(), 1);
        assert_eq!(s.recover_intents().unwrap(), 0, "recorded once");
        let records = s.audit_records(0, 100).unwrap();
        let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["alert.close", "blocklist.add"]);
        assert!(records[1].after.as_ref().unwrap()["interrupted"].is_string());
        assert!(s.verify_audit().unwrap().broken.is_none());
    }

    #[test]
    fn a_user_logs_in_and_the_session_carries_role_and_tenant() {
        let (_d, s) = open();
        s.add_user(&user("kim", Role::Institution, Some("seoul")), "cli:test")
            .unwrap();
        let LoginOutcome::Ok(session) = s
            .login("kim", "a long enough secret", Duration::from_secs(60))
            .unwrap()
        else {
            panic!("login failed")
        };
        let info = s.session(&session.id).unwrap().expect("live session");
        assert_eq!(info.principal.role, Role::Institution);
        assert_eq!(info.principal.tenant.as_deref(), Some("seoul"));
        assert_eq!(info.csrf, session.csrf);
        s.logout(&session.id, "user:kim").unwrap();
        assert!(s.session(&session.id).unwrap().is_none());
    }

    #[test]
    fn five_wrong_passwords_lock_the_user_out() {
        let (_d, s) = open();
        s.add_user(&user("lee", Role::Center, None), "cli:test")
            .unwrap();
        for _ in 0..LOCK_AFTER {
            assert!(matches!(
                s.login("lee", "wrong password!", Duration::from_secs(60))
                    .unwrap(),
                LoginOutcome::Invalid
            ));
        }
        assert!(matches!(
            s.login("lee", "a long enough secret", Duration::from_secs(60))
                .unwrap(),
            LoginOutcome::Locked(_)
        ));
        assert!(matches!(
            s.login("nobody", "x", Duration::from_secs(60)).unwrap(),
            LoginOutcome::Invalid
        ));
    }

    #[test]
    fn disabling_a_user_ends_their_sessions() {
        let (_d, s) = open();
        s.add_user(&user("park", Role::Viewer, None), "cli:test")
            .unwrap();
        let LoginOutcome::Ok(session) = s
            .login("park", "a long enough secret", Duration::from_secs(60))
            .unwrap()
        else {
            panic!()
        };
        s.set_disabled("park", true, "cli:test").unwrap();
        assert!(s.session(&session.id).unwrap().is_none());
        assert!(matches!(
            s.login("park", "a long enough secret", Duration::from_secs(60))
                .unwrap(),
            LoginOutcome::Disabled
        ));
    }

    #[test]
    fn tokens_are_stored_hashed_and_revocation_is_immediate() {
        let (dir, s) = open();
        let t = s
            .create_token(
                &TokenSpec {
                    name: "fw-seoul".into(),
                    role: Role::Institution,
                    tenant: Some("seoul".into()),
                    expires: None,
                },
                "cli:test",
            )
            .unwrap();
        assert!(
            matches!(s.token(&t.secret).unwrap(), TokenLookup::Valid(p) if p.tenant.as_deref() == Some("seoul"))
        );
        let raw = std::fs::read(AccessStore::path_in(dir.path())).unwrap();
        let wal = std::fs::read(AccessStore::path_in(dir.path()).with_extension("db-wal"))
            .unwrap_or_default();
        let needle = t.secret.as_bytes();
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle)
                && !wal.windows(needle.len()).any(|w| w == needle)
        );
        s.revoke_token("fw-seoul", "cli:test").unwrap();
        assert_eq!(
            s.token(&t.secret).unwrap(),
            TokenLookup::Revoked("fw-seoul".into())
        );
        assert_eq!(s.token("hct_nonsense").unwrap(), TokenLookup::Unknown);
    }

    #[test]
    fn the_audit_chain_verifies_and_an_edit_breaks_it() {
        let (dir, s) = open();
        s.add_user(&user("choi", Role::Center, None), "cli:test")
            .unwrap();
        s.set_disabled("choi", true, "cli:test").unwrap();
        s.audit(
            &AuditEntry::new("user:admin", "alert.close", "alert:7")
                .after(json!({"disposition": "benign"})),
        )
        .unwrap();
        let report = s.verify_audit().unwrap();
        assert_eq!(report.records, 3);
        assert_eq!(report.broken, None);
        let records = s.audit_records(0, 10).unwrap();
        assert_eq!(records[1].action, "user.disable");
        assert_eq!(
            records[1].before.as_ref().unwrap()["disabled"],
            json!(false)
        );
        assert!(
            records
                .iter()
                .all(|r| !r.after.iter().any(|a| a.to_string().contains("argon2")))
        );
        drop(s);
        // An attacker with the file drops the triggers and rewrites record 2.
        let conn = Connection::open(AccessStore::path_in(dir.path())).unwrap();
        assert!(
            conn.execute("UPDATE audit SET actor = 'x' WHERE seq = 2", [])
                .is_err(),
            "triggers refuse edits"
        );
        conn.execute_batch(
            "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'user:someone' WHERE seq = 2;",
        )
        .unwrap();
        drop(conn);
        let s = AccessStore::open(&AccessStore::path_in(dir.path())).unwrap();
        let report = s.verify_audit().unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.0), Some(2));
        assert!(report.broken.unwrap().1.contains("edited"));
    }

    #[test]
    fn a_deleted_record_is_named() {
        let (dir, s) = open();
        for i in 0..4 {
            s.audit(&AuditEntry::new("system", "test", format!("n:{i}")))
                .unwrap();
        }
        drop(s);
        let conn = Connection::open(AccessStore::path_in(dir.path())).unwrap();
        conn.execute_batch("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3;")
            .unwrap();
        drop(conn);
        let s = AccessStore::open(&AccessStore::path_in(dir.path())).unwrap();
        let report = s.verify_audit().unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.0), Some(4));
        assert!(report.broken.unwrap().1.contains("missing"));
    }

    #[test]
    fn the_first_admin_is_created_once() {
        let (_d, s) = open();
        let pw = s.ensure_admin(None).unwrap().expect("generated");
        assert_eq!(pw.len(), 20);
        assert_eq!(s.ensure_admin(Some("another password")).unwrap(), None);
        assert!(matches!(
            s.login("admin", &pw, Duration::from_secs(60)).unwrap(),
            LoginOutcome::Ok(_)
        ));
    }

    #[test]
    fn bad_names_roles_and_passwords_are_refused_with_the_reason() {
        let (_d, s) = open();
        let e = s
            .add_user(&user("bad name", Role::Viewer, None), "t")
            .unwrap_err();
        assert!(e.to_string().contains("not valid"));
        let e = s
            .add_user(&user("ok", Role::Institution, None), "t")
            .unwrap_err();
        assert!(e.to_string().contains("--tenant"));
        let mut weak = user("ok", Role::Viewer, None);
        weak.password = "short".into();
        assert!(
            s.add_user(&weak, "t")
                .unwrap_err()
                .to_string()
                .contains("at least 12")
        );
        s.add_user(&user("ok", Role::Viewer, None), "t").unwrap();
        assert!(matches!(
            s.add_user(&user("ok", Role::Viewer, None), "t"),
            Err(AccessError::Exists(_))
        ));
    }
}
