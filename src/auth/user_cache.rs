//! What the request path needs to know about a user, kept in memory. The user manager fills
//! it and invalidates it on every write it makes. On PostgreSQL the writes of other keyward
//! instances (and of anyone else) arrive as change notifications and invalidate it too (see
//! [`crate::propagation`]); entries also expire after a TTL, the bound on staleness whenever
//! notifications cannot arrive.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use dashmap::DashMap;
use time::OffsetDateTime;

/// A user as the request path sees them: flags, stamp, groups and effective permissions.
#[derive(Debug, Clone)]
pub struct UserSnapshot {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub security_stamp: String,
    pub date_joined: OffsetDateTime,
    pub last_login: Option<OffsetDateTime>,
    /// Group names, sorted.
    pub groups: Vec<String>,
    /// Effective permissions (own and groups'), as `app.codename`.
    pub permissions: BTreeSet<String>,
    /// The user as `GET /api/me/` shows them, rendered on first use.
    pub rendered: Rendered,
}

/// A rendering of a snapshot, made once. A clone starts empty: a clone may be changed, and must
/// not show what the original rendered.
#[derive(Debug, Default)]
pub struct Rendered(OnceLock<Bytes>);

impl Clone for Rendered {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Rendered {
    /// The rendering, made by `render` the first time it succeeds.
    pub fn get_or_try(&self, render: impl FnOnce() -> Option<Bytes>) -> Option<Bytes> {
        if let Some(done) = self.0.get() {
            return Some(done.clone());
        }
        let done = render()?;
        Some(self.0.get_or_init(|| done).clone())
    }
}

impl UserSnapshot {
    /// Django's `has_perm`: an inactive user has none; an active superuser has all.
    pub fn has_perm(&self, codename: &str) -> bool {
        self.is_active && (self.is_superuser || self.permissions.contains(codename))
    }
}

/// Snapshots by user id.
#[derive(Debug)]
pub struct UserCache {
    entries: DashMap<i64, (Instant, Arc<UserSnapshot>)>,
    generation: AtomicU64,
    ttl: Duration,
}

impl UserCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: DashMap::new(),
            generation: AtomicU64::new(0),
            ttl,
        }
    }

    /// A snapshot younger than the TTL.
    pub fn get(&self, id: i64) -> Option<Arc<UserSnapshot>> {
        let entry = self.entries.get(&id)?;
        let (loaded, snapshot) = entry.value();
        (loaded.elapsed() < self.ttl).then(|| Arc::clone(snapshot))
    }

    /// Read before loading from the database; hand it to [`Self::insert_loaded`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a snapshot read from the database, unless a write invalidated anything since
    /// `generation` was read (then the snapshot may be stale, and is dropped).
    pub fn insert_loaded(&self, generation: u64, snapshot: Arc<UserSnapshot>) {
        let id = snapshot.id;
        self.entries.insert(id, (Instant::now(), snapshot));
        if self.generation() != generation {
            self.entries.remove(&id);
        }
    }

    /// Forgets one user after a write that concerns them.
    pub fn invalidate(&self, id: i64) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(&id);
    }

    /// Forgets everyone (after a write to a group or permission that many users share).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    /// Users held, including entries past their TTL that no lookup has replaced yet.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
