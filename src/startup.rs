//! `Application::build(settings)`: binds the listener (port 0 in tests), then prepares the
//! database and keys, starts the actors once and wires the routes.

use std::net::TcpListener;
use std::sync::Arc;

use actix::{Actor, Addr, SyncArbiter};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::actors::ended_sessions::EndedSessions;
use crate::actors::login_locks::LoginLocks;
use crate::actors::revoked::RevokedSet;
use crate::actors::rotated_tokens::RotatedTokens;
use crate::actors::session_store::SessionStore;
use crate::actors::token_blacklist::{Remember, TokenBlacklist};
use crate::actors::token_store::TokenStore;
use crate::actors::user_manager::{UserManager, UserPolicy, UserReader};
use crate::admin::{self, ConsoleSettings};
use crate::api::body::BodyLimit;
use crate::api::{self, Mounts};
use crate::audit::{Audit, WriterConfig};
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::{AuthSettings, PasswordHasher, UserCache};
use crate::client::TrustedProxies;
use crate::clock::Clock;
use crate::config::{Paths, Settings};
use crate::db::listener::Listener;
use crate::db::{DatabaseUrl, DbError, DbPool, build_pool, checkpoint};
use crate::jwt::TokenCodec;
use crate::metrics::{self, Metrics, RecordRequests};
use crate::prepare::{Prepared, prepare};
use crate::propagation::Propagation;
use crate::propagation::applier::Applier;

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    port: u16,
    /// The metrics listener's server and port, when `metrics_bind` is set.
    metrics: Option<(Server, u16)>,
    pool: DbPool,
    audit: Audit,
    propagation: Propagation,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Url(#[from] crate::db::UrlError),
    #[error(transparent)]
    Prepare(#[from] crate::prepare::PrepareError),
    #[error("cannot listen on {bind}: {cause}")]
    Bind { bind: String, cause: std::io::Error },
    #[error("startup: {0}")]
    Other(String),
}

/// The state handlers share, built once for all workers.
#[derive(Clone)]
struct Shared {
    codec: web::Data<TokenCodec>,
    revoked: web::Data<RevokedSet>,
    ended: web::Data<EndedSessions>,
    sessions_policy: web::Data<api::SessionPolicy>,
    retries: web::Data<api::RotationRetries>,
    cache: web::Data<UserCache>,
    users: web::Data<Addr<UserManager>>,
    readers: web::Data<UserReader>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    auth: web::Data<AuthSettings>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    body_limit: web::Data<BodyLimit>,
    request_timeout: web::Data<api::RequestTimeout>,
    rotation: web::Data<api::Rotation>,
    password_rules: web::Data<api::PasswordRules>,
    sessions: web::Data<Addr<SessionStore>>,
    console: web::Data<ConsoleSettings>,
    locks: web::Data<Addr<LoginLocks>>,
    proxies: web::Data<TrustedProxies>,
    audit: web::Data<Audit>,
    transport: web::Data<api::Transport>,
    propagation: web::Data<Propagation>,
    metrics: web::Data<Metrics>,
    paths: web::Data<Paths>,
    docs: web::Data<api::ApiDocs>,
    mounts: Mounts,
}

/// keyward's shared state: pool, keys, caches and actors, started once. A downstream
/// actix-web application registers it with [`Keyward::register`] to use keyward's extractors
/// (`AuthUser`, `Allowed<P>`, ...) on its own routes, and may mount keyward's API with
/// [`Keyward::api`].
#[derive(Clone)]
pub struct Keyward {
    shared: Shared,
    pool: DbPool,
}

impl Keyward {
    /// Prepares the database (migrations, keys, revocation list, first superuser) and starts
    /// the actors. Call once, before `HttpServer::new`, inside an actix system.
    pub async fn start(settings: &Settings, clock: Clock) -> Result<Self, StartupError> {
        settings.validate()?;
        let url = DatabaseUrl::parse(&settings.database_url)?;
        let pool = build_pool(&url, settings.database_pool_size, settings.pool_timeouts())
            .map_err(|e| StartupError::Other(e.to_string()))?;
        tracing::info!(database = %url.redacted(), "using database");
        if let Some(warning) = crate::propagation::sqlite_instances_warning(settings) {
            tracing::warn!("{warning}");
        }

        let prepared = {
            let (settings, pool, clock) = (settings.clone(), pool.clone(), clock.clone());
            web::block(move || prepare(&settings, &pool, &clock))
                .await
                .map_err(|e| StartupError::Other(e.to_string()))??
        };
        let Prepared {
            keys,
            lists,
            loaded_at,
            dummy_hash,
        } = prepared;

        let cache = Arc::new(UserCache::new(settings.user_cache_ttl));
        let metrics = Metrics::new(
            metrics::Sources {
                revoked: Arc::clone(&lists.revoked),
                ended: Arc::clone(&lists.ended),
                users: Arc::clone(&cache),
                pool: pool.clone(),
            },
            clock.now().unix_timestamp() as f64,
        )
        .map(Arc::new)
        .map_err(|e| StartupError::Other(format!("cannot register the metrics: {e}")))?;
        let policy = UserPolicy {
            hasher: PasswordHasher::new(settings.bcrypt_cost),
            dummy_hash: dummy_hash.into(),
            update_last_login: settings.update_last_login,
            check_user_is_active: settings.check_user_is_active,
            login_fields: settings
                .login_field_set()
                .map_err(crate::config::ConfigError::Invalid)?,
            throttle: ThrottlePolicy::from_settings(settings),
        };
        let start_users = |threads: usize, background: bool| {
            let (pool, cache, policy) = (pool.clone(), Arc::clone(&cache), policy.clone());
            SyncArbiter::start(threads, move || {
                let manager = UserManager::new(pool.clone(), Arc::clone(&cache), policy.clone());
                if background {
                    manager.in_background()
                } else {
                    manager
                }
            })
        };
        let users = start_users(settings.user_manager_thread_count(), true);
        let readers = UserReader(start_users(2, false));
        // SQLite has one writer: token writes queue on one thread instead of on the file lock.
        let store_threads = match url {
            DatabaseUrl::Sqlite(_) => 1,
            DatabaseUrl::Postgres(_) => settings.token_store_thread_count(),
        };
        let start_store = |threads: usize| {
            let pool = pool.clone();
            SyncArbiter::start(threads, move || TokenStore::new(pool.clone()))
        };
        // On PostgreSQL the spent tokens of rotations wait here to be announced.
        let rotated = match url {
            DatabaseUrl::Sqlite(_) => None,
            DatabaseUrl::Postgres(_) => Some(Arc::new(RotatedTokens::default())),
        };
        let blacklist = TokenBlacklist::new(
            lists.clone(),
            (start_store(store_threads), start_store(1)),
            clock.clone(),
            (
                settings.blacklist_sync_interval,
                settings.blacklist_purge_interval,
            ),
            loaded_at,
            metrics.revocations.clone(),
        );
        let blacklist = match &rotated {
            Some(queue) => blacklist.announcing_rotations(Arc::clone(queue)),
            None => blacklist,
        }
        .start();
        // Wait for the actor to run `started` (its timers need the running system): an actor
        // still unstarted when the system goes down would start, and panic, while dropped.
        blacklist
            .send(Remember(Default::default()))
            .await
            .map_err(|e| StartupError::Other(e.to_string()))?;

        let propagation = match rotated {
            None => Propagation::SingleInstance,
            Some(rotated) => {
                let applier = Applier {
                    blacklist: blacklist.clone(),
                    cache: Arc::clone(&cache),
                    lists: lists.clone(),
                    rotated,
                    clock: clock.clone(),
                };
                let listener = Listener::start(pool.connector(), applier).map_err(|e| {
                    StartupError::Other(format!("cannot start the change listener: {e}"))
                })?;
                metrics.watch_listener(listener.watch()).map_err(|e| {
                    StartupError::Other(format!("cannot register the listener's metrics: {e}"))
                })?;
                Propagation::Notifications(listener)
            }
        };
        // Not up in time (the listener says why), the instance serves with polling meanwhile.
        propagation
            .wait_until_listening(settings.database_connect_timeout)
            .await;

        let sessions = {
            let pool = pool.clone();
            SyncArbiter::start(2, move || SessionStore::new(pool.clone()))
        };
        let locks = {
            let pool = pool.clone();
            SyncArbiter::start(1, move || LoginLocks::new(pool.clone()))
        };
        let proxies = TrustedProxies::parse(&settings.trusted_proxies)
            .map_err(crate::config::ConfigError::Invalid)?;
        let browser = settings
            .browser()
            .map_err(crate::config::ConfigError::Invalid)?;
        let audit = Audit::start(
            pool.clone(),
            clock.clone(),
            WriterConfig::new(settings.audit_retention),
        )
        .map_err(|e| StartupError::Other(format!("cannot start the audit writer: {e}")))?;
        let mounts = Mounts::from_settings(settings);
        let docs = api::ApiDocs::new(&mounts, settings).map_err(StartupError::Other)?;
        let shared = Shared {
            codec: web::Data::new(TokenCodec::new(settings, keys)),
            revoked: web::Data::from(lists.revoked),
            ended: web::Data::from(lists.ended),
            sessions_policy: web::Data::new(api::SessionPolicy::from_settings(settings)),
            retries: web::Data::new(api::RotationRetries::default()),
            cache: web::Data::from(cache),
            users: web::Data::new(users),
            readers: web::Data::new(readers),
            blacklist: web::Data::new(blacklist),
            auth: web::Data::new(AuthSettings::from_settings(settings)),
            pool: web::Data::new(pool.clone()),
            clock: web::Data::new(clock),
            body_limit: web::Data::new(BodyLimit(settings.max_body_size)),
            request_timeout: web::Data::new(api::RequestTimeout(settings.request_timeout)),
            rotation: web::Data::new(api::Rotation {
                rotate_refresh_tokens: settings.rotate_refresh_tokens,
                blacklist_after_rotation: settings.blacklist_after_rotation,
            }),
            password_rules: web::Data::new(api::PasswordRules {
                min_length: settings.password_min_length,
            }),
            sessions: web::Data::new(sessions),
            console: web::Data::new(ConsoleSettings {
                idle_timeout: settings.admin_session_idle_timeout,
                lifetime: settings.admin_session_lifetime,
                login_throttle: settings.login_throttle,
            }),
            locks: web::Data::new(locks),
            proxies: web::Data::new(proxies),
            audit: web::Data::new(audit),
            transport: web::Data::new(api::Transport::new(&browser, &mounts.paths)),
            propagation: web::Data::new(propagation),
            metrics: web::Data::from(metrics),
            paths: web::Data::from(Arc::clone(&mounts.paths)),
            docs: web::Data::new(docs),
            mounts,
        };
        Ok(Self { shared, pool })
    }

    /// Registers the shared state as app data (every worker's `App` calls this).
    pub fn register(&self, cfg: &mut web::ServiceConfig) {
        let s = self.shared.clone();
        cfg.app_data(s.codec)
            .app_data(s.revoked)
            .app_data(s.ended)
            .app_data(s.sessions_policy)
            .app_data(s.retries)
            .app_data(s.cache)
            .app_data(s.users)
            .app_data(s.readers)
            .app_data(s.blacklist)
            .app_data(s.auth)
            .app_data(s.pool)
            .app_data(s.clock)
            .app_data(s.body_limit)
            .app_data(s.request_timeout)
            .app_data(s.rotation)
            .app_data(s.password_rules)
            .app_data(s.sessions)
            .app_data(s.console)
            .app_data(s.locks)
            .app_data(s.proxies)
            .app_data(s.audit)
            .app_data(s.transport)
            .app_data(s.propagation)
            .app_data(s.metrics)
            .app_data(s.paths)
            .app_data(s.docs);
    }

    /// keyward's own routes (token endpoints, signup, me, admin API, check, health).
    pub fn api(&self) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
        api::config(self.shared.mounts.clone())
    }

    /// The endpoints [`Self::api`] registers, with their configured paths.
    pub fn routes(&self) -> Vec<api::Route> {
        api::routes(&self.shared.mounts)
    }

    /// The admin console's routes, mounted at `paths.console`.
    pub fn console(&self) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
        admin::config(self.shared.mounts.paths.console_root().to_owned())
    }

    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// The metrics, to serve them or record into them (see [`crate::metrics`]).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.shared.metrics.clone().into_inner()
    }

    /// The audit log, to record events of a downstream application's own.
    pub fn audit(&self) -> Audit {
        self.shared.audit.get_ref().clone()
    }

    /// How this instance learns of other instances' changes, with the listener's counters.
    pub fn propagation(&self) -> Propagation {
        self.shared.propagation.get_ref().clone()
    }

    /// Call once the server has stopped: writes the audit events still pending (best
    /// effort, for a few seconds), then on SQLite moves the write-ahead log into the database
    /// file, so that file alone holds everything (nothing to do on PostgreSQL). Blocking.
    /// The pool is closed afterwards: nothing reconnects while the process exits.
    pub fn shutdown(&self) -> Result<(), DbError> {
        close_audit(self.shared.audit.get_ref());
        let checkpointed = checkpoint(&self.pool);
        self.pool.close();
        checkpointed
    }
}

/// The metrics listener and its port, bound before anything else starts, when `metrics_bind`
/// is set.
fn bind_metrics(settings: &Settings) -> Result<Option<(TcpListener, u16)>, StartupError> {
    if !settings.metrics_enabled() {
        return Ok(None);
    }
    let bind = settings.metrics_bind.trim();
    let failed = |cause| StartupError::Bind {
        bind: bind.to_owned(),
        cause,
    };
    let listener = TcpListener::bind(bind).map_err(failed)?;
    let port = listener.local_addr().map_err(failed)?.port();
    Ok(Some((listener, port)))
}

/// How long stopping waits for the audit writer to store what it still holds.
const AUDIT_CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn close_audit(audit: &Audit) {
    if !audit.close(AUDIT_CLOSE_TIMEOUT) {
        tracing::warn!("some audit events could not be written before stopping");
    }
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Clock::default()).await
    }

    /// As [`Self::build`], with a clock tests can move.
    /// Nothing touches the database before the address is known to be free.
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> Result<Self, StartupError> {
        settings.validate()?;
        let listener = TcpListener::bind(&settings.bind).map_err(|cause| StartupError::Bind {
            bind: settings.bind.clone(),
            cause,
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Other(e.to_string()))?
            .port();
        let cors = settings
            .browser()
            .map_err(crate::config::ConfigError::Invalid)?
            .cors;
        let metrics_listener = bind_metrics(&settings)?;
        let keyward = Keyward::start(&settings, clock).await?;
        let pool = keyward.pool();
        let audit = keyward.audit();
        let propagation = keyward.propagation();
        let recorded = metrics_listener
            .is_some()
            .then(|| keyward.metrics().http.clone());
        let metrics = match metrics_listener {
            Some((listener, port)) => {
                let server =
                    metrics::serve(listener, keyward.metrics(), settings.metrics_token.as_ref())
                        .map_err(|cause| StartupError::Bind {
                            bind: settings.metrics_bind.clone(),
                            cause,
                        })?;
                Some((server, port))
            }
            None => None,
        };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(api::nosniff())
                .wrap(from_fn(api::add_challenge))
                .wrap(from_fn(api::request_timeout))
                .wrap(from_fn(api::access_log))
                .wrap(api::cors(&cors))
                .wrap(RecordRequests::new(recorded.clone()))
                .configure(|cfg| keyward.register(cfg))
                .configure(keyward.api())
                .configure(keyward.console())
                .default_service(web::to(api::not_found))
        })
        .workers(settings.worker_count())
        .client_request_timeout(settings.request_timeout)
        .listen(listener)
        .map_err(|cause| StartupError::Bind {
            bind: settings.bind.clone(),
            cause,
        })?
        .run();
        Ok(Self {
            server,
            port,
            metrics,
            pool,
            audit,
            propagation,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `GET /metrics` is served on, when `metrics_bind` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// The pool the server uses (tests check the store's invariants through it).
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// The server's audit log.
    pub fn audit(&self) -> Audit {
        self.audit.clone()
    }

    /// How the server learns of other instances' changes, with the listener's counters.
    pub fn propagation(&self) -> Propagation {
        self.propagation.clone()
    }

    /// Serves until the server is stopped (SIGINT, SIGTERM), then writes the audit events
    /// still pending, checkpoints SQLite's write-ahead log into the database file and closes
    /// the pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            (actix_web::rt::spawn(server), handle)
        });
        let served = self.server.await;
        if let Some((task, handle)) = metrics {
            handle.stop(true).await;
            if let Ok(Err(err)) = task.await {
                tracing::warn!(error = %err, "the metrics listener failed");
            }
        }
        served?;
        let (pool, audit) = (self.pool, self.audit);
        drop(self.propagation);
        let closed = web::block(move || {
            close_audit(&audit);
            let checkpointed = checkpoint(&pool);
            pool.close();
            checkpointed
        });
        match closed.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "checkpoint at shutdown failed"),
            Err(err) => tracing::warn!(error = %err, "checkpoint at shutdown failed"),
        }
        Ok(())
    }
}
