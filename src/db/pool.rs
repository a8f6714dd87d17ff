//! The r2d2 pool. The manager opens the backend the URL names and passes the real error on,
//! bounds every wait (connect, checkout, each call) and applies per-connection settings. While
//! the database is unreachable, checkouts fail at once (see [`super::health`]). A PostgreSQL
//! connection is pinged at checkout only when it may have gone bad since it last answered
//! (see [`super::liveness`]); one known lost is never handed out again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};

use super::health::{DbHealth, start_prober};
use super::liveness::Liveness;
use super::socket::opened_with_socket;
use super::watchdog::Watchdog;
use super::{DatabaseUrl, DbConn, DbError};

/// A connection checked out of the pool.
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// A connection for migrations: see [`DbPool::for_migrations`].
pub enum MigrationConn {
    Own(DbConn),
    Pooled(PooledConn),
}

impl std::ops::Deref for MigrationConn {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        match self {
            Self::Own(conn) => conn,
            Self::Pooled(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for MigrationConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        match self {
            Self::Own(conn) => conn,
            Self::Pooled(conn) => conn,
        }
    }
}

/// How long past `statement_timeout` the client waits for an answer before it gives the
/// connection up: the server's own timeout answers first whenever the server is there.
const CALL_GRACE: Duration = Duration::from_millis(500);

/// The waits that bound every use of the database.
#[derive(Debug, Clone, Copy)]
pub struct PoolTimeouts {
    /// Opening a connection (libpq `connect_timeout`).
    pub connect: Duration,
    /// How long a caller waits for a pooled connection.
    pub wait: Duration,
    /// PostgreSQL `statement_timeout` (SQLite `busy_timeout`); the client gives a call up
    /// shortly after it.
    pub statement: Duration,
}

/// The connection pool with the database's health in front of it.
#[derive(Clone)]
pub struct DbPool {
    pool: r2d2::Pool<ConnectionManager>,
    /// Opens connections the way the pool does, for the few that live outside it.
    manager: ConnectionManager,
    health: Arc<DbHealth>,
    wait: Duration,
    checkouts: Arc<Checkouts>,
    /// Held by every clone: the prober thread ends once the last one is dropped.
    _alive: Arc<()>,
}

impl DbPool {
    /// Closes the pool for good, for every clone: checkouts fail at once and no connection is
    /// opened again (by the pool, to keep its idle minimum, or by the prober). Connections in
    /// use finish their call. For a stopped server, so nothing reconnects while it exits.
    pub fn close(&self) {
        self.health.close();
    }

    /// A connection, waiting at most the pool's `wait` for one; at once `Unavailable` while
    /// the database is known to be unreachable.
    pub fn get(&self) -> Result<PooledConn, DbError> {
        let started = Instant::now();
        let got = self.get_by(started + self.wait);
        self.checkouts.record(&got, started.elapsed());
        got.map_err(|miss| match miss {
            Miss::Down => DbError::Unavailable(format!(
                "database unreachable ({})",
                self.health.cause().trim()
            )),
            Miss::Timeout => {
                DbError::Unavailable(format!("no database connection within {:?}", self.wait))
            }
            Miss::Closed => DbError::Unavailable("the database pool is closed".into()),
        })
    }

    fn get_by(&self, deadline: Instant) -> Result<PooledConn, Miss> {
        loop {
            if self.health.is_closed() {
                return Err(Miss::Closed);
            }
            if self.health.is_down() {
                return Err(Miss::Down);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Miss::Timeout);
            }
            // Short slices, so a waiter learns at once that the database went down.
            let slice = (deadline - now).min(Duration::from_millis(100));
            if let Ok(conn) = self.pool.get_timeout(slice) {
                return Ok(conn);
            }
        }
    }

    /// What opens connections for this pool, to open one that lives outside it (the change
    /// listener's). It holds no part of the pool: the pool's threads still end with the pool.
    pub fn connector(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// A connection to run schema migrations on. PostgreSQL: one of its own, without
    /// statement deadlines ([`ConnectionManager::open_for_migrations`]). SQLite: a pooled one,
    /// as every write (a second connection migrating while the pool's open could find the file
    /// locked, and SQLite has no statement deadline to lift).
    pub fn for_migrations(&self) -> Result<MigrationConn, DbError> {
        match self.manager.url {
            DatabaseUrl::Postgres(_) => Ok(MigrationConn::Own(self.manager.open_for_migrations()?)),
            DatabaseUrl::Sqlite(_) => Ok(MigrationConn::Pooled(self.get()?)),
        }
    }

    /// The pool's size and use now, and its checkouts so far (cheap enough for every scrape:
    /// one short lock inside the pool).
    pub fn status(&self) -> PoolStatus {
        let state = self.pool.state();
        PoolStatus {
            max: self.pool.max_size(),
            open: state.connections,
            idle: state.idle_connections,
            up: !self.health.is_down(),
            checkouts: self.checkouts.count.load(Ordering::Relaxed),
            waited: Duration::from_micros(self.checkouts.waited_micros.load(Ordering::Relaxed)),
            timeouts: self.checkouts.timeouts.load(Ordering::Relaxed),
            refused: self.checkouts.refused.load(Ordering::Relaxed),
        }
    }
}

/// Why a checkout got no connection.
enum Miss {
    /// The database is known to be unreachable: refused at once.
    Down,
    /// No connection came free within the wait.
    Timeout,
    /// The pool was closed.
    Closed,
}

/// Checkouts so far: how many, how long they waited in all, how many got no connection.
#[derive(Debug, Default)]
struct Checkouts {
    count: AtomicU64,
    waited_micros: AtomicU64,
    timeouts: AtomicU64,
    refused: AtomicU64,
}

impl Checkouts {
    fn record(&self, got: &Result<PooledConn, Miss>, waited: Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.waited_micros.fetch_add(micros, Ordering::Relaxed);
        match got {
            Ok(_) => {}
            Err(Miss::Timeout) => {
                self.timeouts.fetch_add(1, Ordering::Relaxed);
            }
            Err(Miss::Down | Miss::Closed) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// A pool's state, for the metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolStatus {
    /// Most connections the pool opens (`database_pool_size`).
    pub max: u32,
    /// Connections open now, in use or idle.
    pub open: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// Whether the database is reachable, as last seen.
    pub up: bool,
    /// Checkouts so far, and their waits added up.
    pub checkouts: u64,
    pub waited: Duration,
    /// Checkouts that got no connection within `database_wait_timeout`.
    pub timeouts: u64,
    /// Checkouts refused at once because the database was unreachable.
    pub refused: u64,
}

/// Opens connections for the pool.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    connect_timeout: Duration,
    statement_timeout: Duration,
    health: Arc<DbHealth>,
    watchdog: Option<Watchdog>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(String);

impl ConnectionManager {
    /// Opens a connection and records what it says of the server's health. Only a server
    /// can be down: a SQLite file that fails to open (a lock held a moment too long) says
    /// nothing about the next attempt.
    fn open(&self) -> Result<DbConn, ConnectError> {
        if self.health.is_closed() {
            return Err(ConnectError("the database pool is closed".into()));
        }
        let opened = self.open_unchecked();
        if let DatabaseUrl::Postgres(_) = self.url {
            match &opened {
                Ok(_) => self.health.mark_up(),
                Err(err) => self.health.mark_down(&err.0),
            }
        }
        opened
    }

    /// A connection outside the pool, opened as the pool's are (the URL with its libpq
    /// timeouts and TLS settings, `statement_timeout`, the watchdog on every call); whether it
    /// opens says nothing of the database's health to the pool. None once the pool is closed.
    pub fn open_dedicated(&self) -> Result<DbConn, DbError> {
        if self.health.is_closed() {
            return Err(DbError::Unavailable("the database pool is closed".into()));
        }
        self.open_unchecked().map_err(|e| DbError::Unavailable(e.0))
    }

    /// A connection for schema migrations, outside the pool: as [`Self::open_dedicated`],
    /// but without `statement_timeout`, `lock_timeout` or the watchdog, so a migration that
    /// rewrites a big table, or waits for another instance's migration to finish, is not
    /// cancelled after `database_statement_timeout`. A server that goes silent is still found
    /// out by the URL's TCP keepalives and `tcp_user_timeout`. On SQLite, the pool's settings.
    pub fn open_for_migrations(&self) -> Result<DbConn, DbError> {
        if self.health.is_closed() {
            return Err(DbError::Unavailable("the database pool is closed".into()));
        }
        self.open_with(Limits::Unbounded)
            .map_err(|e| DbError::Unavailable(e.0))
    }

    fn open_unchecked(&self) -> Result<DbConn, ConnectError> {
        self.open_with(Limits::Bounded)
    }

    fn open_with(&self, limits: Limits) -> Result<DbConn, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let ports = self.url.tcp_ports();
                let url = with_libpq_timeouts(url, self.connect_timeout);
                let (mut conn, fd) =
                    opened_with_socket(&url, &ports, || PgConnection::establish(&url))
                        .map_err(|e| ConnectError(e.to_string()))?;
                let watchdog = self.watchdog.as_ref().filter(|_| limits == Limits::Bounded);
                let guard = watchdog.zip(fd).map(|(w, fd)| w.guard(fd));
                conn.set_instrumentation(Liveness::new(guard, Arc::clone(&self.health)));
                let millis = match limits {
                    Limits::Bounded => self.statement_timeout.as_millis(),
                    Limits::Unbounded => 0,
                };
                conn.batch_execute(&format!(
                    "SET statement_timeout = {millis}; SET lock_timeout = {millis}; SET TIME ZONE 'UTC'"
                ))
                .map_err(|e| ConnectError(e.to_string()))?;
                Ok(DbConn::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&path).map_err(|e| ConnectError(e.to_string()))?;
                let busy = self.statement_timeout.as_millis();
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {busy}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                ))
                .map_err(|e| ConnectError(e.to_string()))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// Whether a connection's calls are bounded by `statement_timeout` and the watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limits {
    Bounded,
    Unbounded,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        self.open()
    }

    /// Run at every checkout: a PostgreSQL connection that answered a moment ago, with no
    /// connection lost since, is handed out as it is; any other is pinged first.
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        // While the database is down an idle connection is not worth a ping that can only
        // wait out its deadline: it is dropped, and the pool opens fresh ones once it is back.
        if self.health.is_down() || self.health.is_closed() {
            return Err(ConnectError("database unreachable".into()));
        }
        if let Some(liveness) = liveness(conn)
            && liveness.is_trusted()
        {
            return Ok(());
        }
        crate::with_conn!(conn, c => c.ping()).map_err(|e| {
            if matches!(conn, DbConn::Postgres(_)) {
                self.health.lost_connection();
            }
            ConnectError(e.to_string())
        })
    }

    /// Run when a connection comes back: a lost one is dropped, and the others are checked
    /// before their next use.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        if liveness(conn).is_some_and(Liveness::is_lost) {
            self.health.lost_connection();
            return true;
        }
        crate::with_conn!(conn, c => c.is_broken())
    }
}

/// The liveness record of a PostgreSQL connection.
fn liveness(conn: &mut DbConn) -> Option<&mut Liveness> {
    match conn {
        DbConn::Postgres(c) => c.instrumentation().downcast_mut::<Liveness>(),
        DbConn::Sqlite(_) => None,
    }
}

/// Adds libpq settings the URL does not set itself: timeouts, so a lost server never blocks a
/// thread forever (`connect_timeout`, TCP keepalives and `tcp_user_timeout`), and
/// `gssencmode=disable`, so a connection never goes through Kerberos unless the URL asks for
/// it (libpq tries it first by default; Kerberos's own locks have aborted a process whose pool
/// was still connecting while it exited).
fn with_libpq_timeouts(url: &str, connect_timeout: Duration) -> String {
    let secs = connect_timeout.as_secs().max(1);
    let defaults = [
        ("connect_timeout", secs.to_string()),
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", "30".to_owned()),
        ("keepalives_interval", "10".to_owned()),
        ("keepalives_count", "3".to_owned()),
        ("tcp_user_timeout", (secs * 1000 * 2).to_string()),
        ("gssencmode", "disable".to_owned()),
    ];
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let mut out = url.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (key, value) in defaults {
        let present = query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(key));
        if !present {
            out.push(sep);
            out.push_str(key);
            out.push('=');
            out.push_str(&value);
            sep = '&';
        }
    }
    out
}

/// Builds the pool without waiting for the database: connections are opened on demand, so
/// the server starts (and `/health/ready` reports) while the database is still down.
pub fn build_pool(url: &DatabaseUrl, size: u32, timeouts: PoolTimeouts) -> Result<DbPool, DbError> {
    let health = Arc::new(DbHealth::default());
    let thread_error = |e: std::io::Error| DbError::Other(format!("cannot start a thread: {e}"));
    let watchdog = match url {
        DatabaseUrl::Postgres(_) => Some(
            Watchdog::start(timeouts.statement + CALL_GRACE, Arc::clone(&health))
                .map_err(thread_error)?,
        ),
        DatabaseUrl::Sqlite(_) => None,
    };
    let manager = ConnectionManager {
        url: url.clone(),
        connect_timeout: timeouts.connect,
        statement_timeout: timeouts.statement,
        health: Arc::clone(&health),
        watchdog,
    };
    let alive = Arc::new(());
    let prober = manager.clone();
    start_prober(&health, Arc::downgrade(&alive), move || {
        let mut conn = prober.open_unchecked().map_err(|e| e.0)?;
        crate::with_conn!(&mut conn, c => c.ping()).map_err(|e| e.to_string())
    })
    .map_err(thread_error)?;
    let min_idle = match url {
        DatabaseUrl::Postgres(_) => Some(1.min(size)),
        DatabaseUrl::Sqlite(_) => Some(1),
    };
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(min_idle)
        .connection_timeout(timeouts.wait)
        .test_on_check_out(true)
        .error_handler(Box::new(LogErrors))
        .build_unchecked(manager.clone());
    Ok(DbPool {
        pool,
        manager,
        health,
        wait: timeouts.wait,
        checkouts: Arc::default(),
        _alive: alive,
    })
}

#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<ConnectError> for LogErrors {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_timeouts_are_added_but_never_override_the_url() {
        let url = with_libpq_timeouts("postgres://h/db?connect_timeout=9", Duration::from_secs(5));
        assert!(
            url.starts_with("postgres://h/db?connect_timeout=9&keepalives=1"),
            "{url}"
        );
        assert_eq!(url.matches("connect_timeout").count(), 1);
        let url = with_libpq_timeouts("postgres://h/db", Duration::from_secs(5));
        assert!(
            url.contains("?connect_timeout=5&") && url.contains("tcp_user_timeout=10000"),
            "{url}"
        );
        assert!(url.ends_with("&gssencmode=disable"), "{url}");
        let url = with_libpq_timeouts("postgres://h/db?gssencmode=require", Duration::from_secs(5));
        assert_eq!(url.matches("gssencmode").count(), 1, "{url}");
    }
}
