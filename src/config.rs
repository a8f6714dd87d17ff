//! Settings: built-in defaults, then an optional `keyward.toml`, then `KEYWARD_*` environment
//! variables (`DATABASE_URL` is honoured too, below `KEYWARD_DATABASE_URL`). Loaded once and
//! passed by value; nothing here is global. An unknown key in the file is an error; an unknown
//! `KEYWARD_*` variable is only a warning, since the environment is shared with other programs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub mod browser;
mod describe;
pub(crate) mod duration;
mod names;
mod paths;

pub use paths::{PathEntry, Paths};

/// The file read when `--config` / `KEYWARD_CONFIG` names none.
pub const DEFAULT_CONFIG_FILE: &str = "keyward.toml";

/// The prefix of the environment variables read as settings (`KEYWARD_BIND`, ...).
pub const ENV_PREFIX: &str = "KEYWARD_";

/// A `KEYWARD_*` variable that is not a setting but is read by the command line.
const ENV_CONFIG: &str = "config";

/// What separates a table from its key in a variable's name: `KEYWARD_PATHS__TOKEN_OBTAIN`
/// is `token_obtain` in `[paths]`.
const ENV_NESTING: &str = "__";

/// Every setting keyward reads. Field names are simplejwt's `SIMPLE_JWT` keys, lower-cased.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    // --- server ---
    /// Address the HTTP server listens on.
    pub bind: String,
    /// actix-web worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest request body accepted, in bytes (413 past it).
    pub max_body_size: usize,
    /// How long a client may take to send a request: its headers, then its body (408 and the
    /// connection closed past it).
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// `text` or `json` log lines.
    pub log_format: String,

    // --- database ---
    /// `postgres://...` / `postgresql://...` or `sqlite://path/to/file.db`.
    pub database_url: String,
    /// Most connections the pool keeps open.
    pub database_pool_size: u32,
    /// How long opening a database connection may take (libpq `connect_timeout`).
    #[serde(with = "duration")]
    pub database_connect_timeout: Duration,
    /// How long a request waits for a pooled connection before it answers 503.
    #[serde(with = "duration")]
    pub database_wait_timeout: Duration,
    /// PostgreSQL `statement_timeout` and `lock_timeout` set on every connection (SQLite's
    /// `busy_timeout`); a call with no answer half a second past it is given up client-side.
    #[serde(with = "duration")]
    pub database_statement_timeout: Duration,
    /// How many keyward processes share the database. Nothing but `keyward check` (and a
    /// warning at start) reads it: more than one on SQLite is a warning, and on PostgreSQL
    /// the server's `max_connections` must hold every instance's pool and change listener.
    pub instances: u32,

    // --- passwords and users ---
    /// bcrypt cost (4..=31); each step doubles the work.
    pub bcrypt_cost: u32,
    /// Threads of the user manager (bcrypt and user queries); 0 means one per core.
    pub user_manager_threads: usize,
    /// Threads writing tokens (login, refresh, logout) on PostgreSQL; 0 means
    /// min(database_pool_size / 2, 8). SQLite always uses one writer.
    pub token_store_threads: usize,
    /// Shortest password accepted by signup and password changes.
    pub password_min_length: usize,
    /// Create `admin` with a random password, printed once, when no superuser exists.
    pub create_default_superuser: bool,
    /// Serve `POST /api/signup/`.
    pub allow_signup: bool,
    /// What the `username` of a sign-in (token endpoints, sliding obtain, console) may name:
    /// `username`, `email`, or both (a username match wins). With `email`, email addresses
    /// match case-insensitively and must be unique among users.
    pub login_fields: Vec<String>,
    /// How long a user's state (flags, stamp, permissions) is trusted from memory before it is
    /// read again; writes through this server invalidate it at once, and on PostgreSQL those
    /// of other instances as soon as they are announced (this bounds the rest).
    #[serde(with = "duration")]
    pub user_cache_ttl: Duration,

    // --- tokens (simplejwt's SIMPLE_JWT) ---
    #[serde(with = "duration")]
    pub access_token_lifetime: Duration,
    #[serde(with = "duration")]
    pub refresh_token_lifetime: Duration,
    /// Serve `/api/token/sliding/` and `/api/token/sliding/refresh/`. Which tokens protected
    /// routes accept is `auth_token_classes`.
    pub sliding_tokens: bool,
    /// simplejwt's `AUTH_TOKEN_CLASSES`: the token types protected routes and the check
    /// endpoint accept, tried in order (`access`, `sliding`). Unset: `["access"]`, plus
    /// `"sliding"` when `sliding_tokens` is on.
    pub auth_token_classes: Option<Vec<String>>,
    #[serde(with = "duration")]
    pub sliding_token_lifetime: Duration,
    #[serde(with = "duration")]
    pub sliding_token_refresh_lifetime: Duration,
    pub sliding_token_refresh_exp_claim: String,
    pub rotate_refresh_tokens: bool,
    pub blacklist_after_rotation: bool,
    pub update_last_login: bool,
    /// HS256/384/512, RS256/384/512, PS256/384/512, ES256/384, EdDSA.
    pub algorithm: String,
    /// HMAC secret, or PEM private key for the asymmetric algorithms. Unset with an HS
    /// algorithm: a random key is generated on first start and kept in the database.
    pub signing_key: Option<SecretString>,
    /// Read `signing_key` from this file instead.
    pub signing_key_file: Option<PathBuf>,
    /// PEM public key for the asymmetric algorithms.
    pub verifying_key: Option<String>,
    /// Read `verifying_key` from this file instead.
    pub verifying_key_file: Option<PathBuf>,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    #[serde(with = "duration")]
    pub leeway: Duration,
    /// Accepted `Authorization` schemes; the first is named in `WWW-Authenticate`.
    pub auth_header_types: Vec<String>,
    /// The header carrying the token.
    pub auth_header_name: String,
    pub user_id_claim: String,
    pub token_type_claim: String,
    pub jti_claim: String,
    pub check_user_is_active: bool,
    /// Put the user's security stamp in tokens and refuse tokens whose stamp is stale
    /// (after a password change, deactivation or "revoke all").
    pub check_revoke_token: bool,
    pub revoke_token_claim: String,
    /// User fields copied into tokens as claims: any of username, email, first_name,
    /// last_name, is_staff, is_superuser.
    pub token_user_claims: Vec<String>,
    /// Claim carrying the user's group names (off when unset). Claims are frozen at login.
    pub token_groups_claim: Option<String>,
    /// Claim carrying the user's effective permissions (off when unset).
    pub token_permissions_claim: Option<String>,

    // --- sessions ---
    /// The claim carrying the session id in every token of a login.
    pub session_id_claim: String,
    /// A session ends this long after its login, however often it is refreshed; no token of it
    /// expires later.
    #[serde(with = "duration")]
    pub session_max_lifetime: Duration,
    /// A session not refreshed for this long ends; 0 turns the idle timeout off.
    #[serde(with = "duration")]
    pub session_idle_timeout: Duration,
    /// A rotated refresh token presented again within this long of its rotation is a retry
    /// (concurrent tabs): it gets the same new pair on the instance that rotated it, and ends
    /// nothing. 0 (the default) is strict: any reuse of a rotated token ends its session.
    #[serde(with = "duration")]
    pub refresh_reuse_interval: Duration,

    // --- admin console ---
    /// A console session ends after this long without a request.
    #[serde(with = "duration")]
    pub admin_session_idle_timeout: Duration,
    /// A console session ends this long after sign-in, whatever the activity.
    #[serde(with = "duration")]
    pub admin_session_lifetime: Duration,

    // --- sign-in throttling (token endpoints and console) ---
    /// Count failed sign-ins in the database and refuse further attempts with 429 for a while.
    pub login_throttle: bool,
    /// Failures allowed from one client address for one username before that pair is locked.
    pub login_attempts_per_pair: u32,
    /// Failures allowed for one username, from any address, before it is locked.
    pub login_attempts_per_username: u32,
    /// Failures allowed from one client address, for any usernames, before it is locked.
    pub login_attempts_per_address: u32,
    /// The first lock; each further failure doubles it, up to `login_window`.
    #[serde(with = "duration")]
    pub login_lockout: Duration,
    /// Failures are forgotten this long after the last one.
    #[serde(with = "duration")]
    pub login_window: Duration,
    /// Peers (IP addresses or CIDR ranges) whose `Forwarded` / `X-Forwarded-*` headers are
    /// believed; empty: none are.
    pub trusted_proxies: Vec<String>,

    // --- revocation list ---
    /// How often revocations made by other keyward instances are read from the database: the
    /// bound whenever their announcements cannot arrive (on PostgreSQL they arrive at once).
    #[serde(with = "duration")]
    pub blacklist_sync_interval: Duration,
    /// How often expired entries leave the in-memory revocation list.
    #[serde(with = "duration")]
    pub blacklist_purge_interval: Duration,

    // --- audit log ---
    /// Security events older than this are purged (hourly, and by `keyward purgeevents`);
    /// 0 keeps them forever.
    #[serde(with = "duration")]
    pub audit_retention: Duration,

    // --- browser apps: CORS and the refresh cookie ---
    /// Origins (`scheme://host[:port]`, exactly as browsers send them) whose pages may call
    /// keyward; `["*"]` for any (body transport only). Empty: no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
    /// Methods a cross-origin request may use.
    pub cors_allowed_methods: Vec<String>,
    /// Request headers a cross-origin request may send (`auth_header_name` is always added).
    pub cors_allowed_headers: Vec<String>,
    /// How long a browser may cache a preflight answer (`Access-Control-Max-Age`).
    #[serde(with = "duration")]
    pub cors_max_age: Duration,
    /// `body` (simplejwt's wire: tokens in the JSON bodies) or `cookie` (the refresh token in
    /// an HttpOnly cookie limited to the refresh and logout paths).
    pub token_transport: String,
    /// The refresh cookie's name.
    pub refresh_cookie_name: String,
    /// The refresh cookie's `Secure` attribute; false only for development on loopback.
    pub refresh_cookie_secure: bool,
    /// The refresh cookie's `SameSite`: `Strict`, `Lax` or `None`.
    pub refresh_cookie_samesite: String,
    // --- metrics ---
    /// Address of a listener of its own serving `GET /metrics` (Prometheus text); empty (the
    /// default): no metrics are served.
    pub metrics_bind: String,
    /// When set, a scrape must send `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<SecretString>,

    // --- paths ---
    /// Where each endpoint and the console are served (`[paths]`, `KEYWARD_PATHS__<NAME>`).
    pub paths: Paths,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8000".into(),
            workers: 0,
            max_body_size: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            log_format: "text".into(),
            database_url: "sqlite://keyward.db".into(),
            database_pool_size: 16,
            database_connect_timeout: Duration::from_secs(5),
            database_wait_timeout: Duration::from_secs(2),
            database_statement_timeout: Duration::from_secs(3),
            instances: 1,
            bcrypt_cost: 12,
            user_manager_threads: 0,
            token_store_threads: 0,
            password_min_length: 8,
            create_default_superuser: true,
            allow_signup: true,
            login_fields: vec!["username".into()],
            user_cache_ttl: Duration::from_secs(30),
            access_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(24 * 3600),
            sliding_tokens: false,
            auth_token_classes: None,
            sliding_token_lifetime: Duration::from_secs(5 * 60),
            sliding_token_refresh_lifetime: Duration::from_secs(24 * 3600),
            sliding_token_refresh_exp_claim: "refresh_exp".into(),
            rotate_refresh_tokens: true,
            blacklist_after_rotation: true,
            update_last_login: false,
            algorithm: "HS256".into(),
            signing_key: None,
            signing_key_file: None,
            verifying_key: None,
            verifying_key_file: None,
            audience: None,
            issuer: None,
            leeway: Duration::ZERO,
            auth_header_types: vec!["Bearer".into()],
            auth_header_name: "Authorization".into(),
            user_id_claim: "user_id".into(),
            token_type_claim: "token_type".into(),
            jti_claim: "jti".into(),
            check_user_is_active: true,
            check_revoke_token: true,
            revoke_token_claim: "stamp".into(),
            token_user_claims: Vec::new(),
            token_groups_claim: None,
            token_permissions_claim: None,
            session_id_claim: "sid".into(),
            session_max_lifetime: Duration::from_secs(30 * 24 * 3600),
            session_idle_timeout: Duration::ZERO,
            refresh_reuse_interval: Duration::ZERO,
            admin_session_idle_timeout: Duration::from_secs(30 * 60),
            admin_session_lifetime: Duration::from_secs(12 * 3600),
            login_throttle: true,
            login_attempts_per_pair: 5,
            login_attempts_per_username: 20,
            login_attempts_per_address: 100,
            login_lockout: Duration::from_secs(60),
            login_window: Duration::from_secs(3600),
            trusted_proxies: Vec::new(),
            blacklist_sync_interval: Duration::from_secs(5),
            blacklist_purge_interval: Duration::from_secs(3600),
            audit_retention: Duration::from_secs(90 * 86_400),
            cors_allowed_origins: Vec::new(),
            cors_allowed_methods: ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .map(String::from)
                .to_vec(),
            cors_allowed_headers: vec!["Authorization".into(), "Content-Type".into()],
            cors_max_age: Duration::from_secs(3600),
            token_transport: "body".into(),
            refresh_cookie_name: "keyward_refresh".into(),
            refresh_cookie_secure: true,
            refresh_cookie_samesite: "Strict".into(),
            metrics_bind: String::new(),
            metrics_token: None,
            paths: Paths::default(),
        }
    }
}

/// Why settings could not be loaded or are not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value that does not deserialize, or an unknown key in the file (one line).
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Defaults, then the TOML file (if it exists), then the environment. Unknown `KEYWARD_*`
    /// variables are skipped and logged as warnings.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let (settings, warnings) = Self::load_reporting(file)?;
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        Ok(settings)
    }

    /// As [`Self::load`], returning the warnings (one line each) instead of logging them.
    pub fn load_reporting(file: Option<&Path>) -> Result<(Self, Vec<String>), ConfigError> {
        let explicit = file.is_some();
        let path = file.unwrap_or(Path::new(DEFAULT_CONFIG_FILE));
        if explicit && !path.exists() {
            return Err(ConfigError::Invalid(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        let known = names::field_names::<Settings>();
        let variables = env_names(known);
        let accepted = variables.clone();
        let settings: Settings = Figment::new()
            .merge(Toml::file(path))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(
                Env::prefixed(ENV_PREFIX)
                    .filter(move |key| accepted.iter().any(|k| key == k.as_str()))
                    .split(ENV_NESTING),
            )
            .extract()
            .map_err(|e| ConfigError::Load(describe::describe(&e, known)))?;
        settings.validate()?;
        Ok((settings, unknown_env_variables(&variables)))
    }

    /// Checks that do not need a database or key material.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if !is_host_and_port(&self.bind) {
            return invalid(format!(
                "bind must be an address and port such as 127.0.0.1:8000, [::]:8000 or \
                 localhost:8000, got {:?}",
                self.bind
            ));
        }
        if !(4..=31).contains(&self.bcrypt_cost) {
            return invalid(format!(
                "bcrypt_cost must be 4..=31, got {}",
                self.bcrypt_cost
            ));
        }
        for (name, value) in [
            ("access_token_lifetime", self.access_token_lifetime),
            ("refresh_token_lifetime", self.refresh_token_lifetime),
            ("sliding_token_lifetime", self.sliding_token_lifetime),
            (
                "sliding_token_refresh_lifetime",
                self.sliding_token_refresh_lifetime,
            ),
            ("user_cache_ttl", self.user_cache_ttl),
            ("blacklist_sync_interval", self.blacklist_sync_interval),
            ("blacklist_purge_interval", self.blacklist_purge_interval),
            (
                "admin_session_idle_timeout",
                self.admin_session_idle_timeout,
            ),
            ("admin_session_lifetime", self.admin_session_lifetime),
            ("request_timeout", self.request_timeout),
            ("login_lockout", self.login_lockout),
            ("login_window", self.login_window),
            ("session_max_lifetime", self.session_max_lifetime),
        ] {
            if value.as_secs() == 0 {
                return invalid(format!("{name} must be at least one second"));
            }
        }
        if self.auth_header_types.is_empty()
            || self.auth_header_types.iter().any(|t| t.trim().is_empty())
        {
            return invalid("auth_header_types must list at least one non-empty scheme".into());
        }
        if actix_web::http::header::HeaderName::try_from(self.auth_header_name.as_str()).is_err() {
            return invalid(format!(
                "auth_header_name {:?} is not a header name",
                self.auth_header_name
            ));
        }
        let mut claims = vec![
            &self.user_id_claim,
            &self.token_type_claim,
            &self.jti_claim,
            &self.revoke_token_claim,
            &self.sliding_token_refresh_exp_claim,
            &self.session_id_claim,
        ];
        claims.extend(self.token_groups_claim.iter());
        claims.extend(self.token_permissions_claim.iter());
        claims.extend(self.token_user_claims.iter());
        if claims.iter().any(|c| c.is_empty()) {
            return invalid("claim names must not be empty".into());
        }
        for (i, a) in claims.iter().enumerate() {
            if claims[i + 1..].contains(a) || ["exp", "iat", "aud", "iss"].contains(&a.as_str()) {
                return invalid(format!("claim name {a:?} is used twice"));
            }
        }
        self.auth_token_kinds().map_err(ConfigError::Invalid)?;
        self.login_field_set().map_err(ConfigError::Invalid)?;
        for claim in &self.token_user_claims {
            if !crate::jwt::USER_CLAIM_FIELDS.contains(&claim.as_str()) {
                return invalid(format!(
                    "token_user_claims: unknown field {claim:?} (known: {})",
                    crate::jwt::USER_CLAIM_FIELDS.join(", ")
                ));
            }
        }
        for (name, value) in [
            ("login_attempts_per_pair", self.login_attempts_per_pair),
            (
                "login_attempts_per_username",
                self.login_attempts_per_username,
            ),
            (
                "login_attempts_per_address",
                self.login_attempts_per_address,
            ),
        ] {
            if value == 0 {
                return invalid(format!("{name} must be at least 1"));
            }
        }
        if self.login_lockout > self.login_window {
            return invalid("login_lockout must not be longer than login_window".into());
        }
        crate::client::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(ConfigError::Invalid)?;
        if self.password_min_length == 0 {
            return invalid("password_min_length must be at least 1".into());
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return invalid(format!(
                "log_format must be text or json, got {:?}",
                self.log_format
            ));
        }
        for (name, value) in [
            ("database_connect_timeout", self.database_connect_timeout),
            ("database_wait_timeout", self.database_wait_timeout),
            (
                "database_statement_timeout",
                self.database_statement_timeout,
            ),
        ] {
            if value.is_zero() {
                return invalid(format!("{name} must be more than zero"));
            }
        }
        if self.database_pool_size == 0 {
            return invalid("database_pool_size must be at least 1".into());
        }
        if self.instances == 0 {
            return invalid("instances must be at least 1".into());
        }
        crate::db::DatabaseUrl::parse(&self.database_url)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.browser().map_err(ConfigError::Invalid)?;
        self.paths.validate().map_err(ConfigError::Invalid)?;
        self.validate_metrics()
    }

    /// `metrics_bind` is off or an address other than `bind`; a `metrics_token` is not empty
    /// and has a listener to guard.
    fn validate_metrics(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self.metrics_enabled() {
            if !is_host_and_port(&self.metrics_bind) {
                return invalid(format!(
                    "metrics_bind must be empty (no metrics) or an address and port such as \
                     127.0.0.1:9464, got {:?}",
                    self.metrics_bind
                ));
            }
            if self.metrics_bind == self.bind && !self.bind.ends_with(":0") {
                return invalid(format!(
                    "metrics_bind must differ from bind ({:?}): metrics have a listener of \
                     their own",
                    self.bind
                ));
            }
        }
        match &self.metrics_token {
            Some(token) if token.expose_secret().trim().is_empty() => {
                invalid("metrics_token must not be empty (leave it unset for no token)".into())
            }
            Some(_) if !self.metrics_enabled() => invalid(
                "metrics_token is set but metrics_bind is empty: no metrics are served".into(),
            ),
            _ => Ok(()),
        }
    }

    /// Whether `GET /metrics` is served (`metrics_bind` is set).
    pub fn metrics_enabled(&self) -> bool {
        !self.metrics_bind.trim().is_empty()
    }

    /// The CORS and token transport settings, checked.
    pub fn browser(&self) -> Result<browser::BrowserSettings, String> {
        browser::read(self)
    }

    /// The token types protected routes accept, in order (`auth_token_classes`, or its
    /// default derived from `sliding_tokens`).
    pub fn auth_token_kinds(&self) -> Result<Vec<crate::jwt::TokenKind>, String> {
        crate::auth::token_classes(self.auth_token_classes.as_deref(), self.sliding_tokens)
    }

    /// The fields a sign-in's `username` is matched against (`login_fields`).
    pub fn login_field_set(&self) -> Result<crate::validation::LoginFields, String> {
        crate::validation::LoginFields::parse(&self.login_fields)
    }

    /// Worker threads, resolving 0 to the core count.
    pub fn worker_count(&self) -> usize {
        resolve_threads(self.workers)
    }

    /// The waits that bound every use of the database.
    pub fn pool_timeouts(&self) -> crate::db::PoolTimeouts {
        crate::db::PoolTimeouts {
            connect: self.database_connect_timeout,
            wait: self.database_wait_timeout,
            statement: self.database_statement_timeout,
        }
    }

    /// How long a token may outlive the end of its session: the longest access or sliding
    /// lifetime, plus the leeway. Ended sessions are remembered this long.
    pub fn session_token_window(&self) -> Duration {
        self.access_token_lifetime.max(self.sliding_token_lifetime) + self.leeway
    }

    /// The PostgreSQL connections one instance may hold: its pool and its change listener.
    pub fn connections_per_instance(&self) -> u32 {
        self.database_pool_size.saturating_add(1)
    }

    /// Token store threads on PostgreSQL, resolving 0.
    pub fn token_store_thread_count(&self) -> usize {
        if self.token_store_threads > 0 {
            return self.token_store_threads;
        }
        usize::try_from(self.database_pool_size / 2)
            .unwrap_or(1)
            .clamp(1, 8)
    }

    /// User manager threads, resolving 0 to the core count.
    pub fn user_manager_thread_count(&self) -> usize {
        resolve_threads(self.user_manager_threads)
    }
}

/// `ip:port`, `[ipv6]:port` or `hostname:port`; resolving a name is left to the bind.
fn is_host_and_port(bind: &str) -> bool {
    if bind.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    let Some((host, port)) = bind.rsplit_once(':') else {
        return false;
    };
    port.parse::<u16>().is_ok()
        && host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The settings as the environment names them, lower-cased and without the prefix: each
/// top-level setting, and each key of `[paths]` as `paths__<key>`.
fn env_names(known: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = known.iter().map(|k| (*k).to_owned()).collect();
    names.extend(
        names::field_names::<Paths>()
            .iter()
            .map(|k| format!("paths{ENV_NESTING}{k}")),
    );
    names
}

/// "ignoring KEYWARD_BNID: unknown setting `bnid`; did you mean `bind`?" for each `KEYWARD_*`
/// variable that names no setting.
fn unknown_env_variables(variables: &[String]) -> Vec<String> {
    let known: Vec<&str> = variables.iter().map(String::as_str).collect();
    Env::prefixed(ENV_PREFIX)
        .iter()
        .map(|(key, _)| key.as_str().to_owned())
        .filter(|key| key != ENV_CONFIG && !known.contains(&key.as_str()))
        .map(|key| {
            format!(
                "ignoring {ENV_PREFIX}{}: unknown setting `{key}`{}",
                key.to_uppercase(),
                names::did_you_mean(&key, &known)
            )
        })
        .collect()
}

fn resolve_threads(configured: usize) -> usize {
    if configured > 0 {
        return configured;
    }
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
