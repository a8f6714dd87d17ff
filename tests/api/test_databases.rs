//! Every test database is removed when its handle drops, also when the test panics, and also
//! while connections to it are open (as a running server holds them).

use std::path::PathBuf;

use diesel::prelude::*;

use crate::helpers::{TestDb, test_database};

/// Where a test database lives, to look for it after its handle is gone.
enum Place {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Place {
    fn of(db: &TestDb) -> Self {
        match db {
            TestDb::Sqlite(dir) => Self::Sqlite(dir.path().to_path_buf()),
            TestDb::Postgres { admin_url, name } => Self::Postgres {
                admin_url: admin_url.clone(),
                name: name.clone(),
            },
        }
    }

    fn exists(&self) -> bool {
        match self {
            Self::Sqlite(dir) => dir.exists(),
            Self::Postgres { admin_url, name } => {
                let mut conn = PgConnection::establish(admin_url)
                    .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
                let count = diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                    "(SELECT count(*) FROM pg_database WHERE datname = '{name}')"
                ));
                diesel::select(count)
                    .get_result::<i64>(&mut conn)
                    .unwrap_or_else(|e| panic!("pg_database: {e}"))
                    == 1
            }
        }
    }
}

/// Opens a connection to the test database and leaves it open.
fn connect(url: &str) -> Box<dyn std::any::Any> {
    match url.strip_prefix("sqlite://") {
        Some(path) => {
            Box::new(SqliteConnection::establish(path).unwrap_or_else(|e| panic!("{path}: {e}")))
        }
        None => Box::new(PgConnection::establish(url).unwrap_or_else(|e| panic!("{url}: {e}"))),
    }
}

#[test]
fn a_test_database_is_gone_once_its_handle_drops_even_with_a_connection_open() {
    let (db, url) = test_database();
    let place = Place::of(&db);
    let _open = connect(&url);
    assert!(place.exists(), "created");
    drop(db);
    assert!(!place.exists(), "dropped with its handle");
}

#[test]
fn a_test_database_is_dropped_when_the_test_using_it_panics() {
    let mut place = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (db, url) = test_database();
        place = Some(Place::of(&db));
        let _open = connect(&url);
        panic!("a failing test (expected: the test database must still be dropped)");
    }));
    assert!(outcome.is_err(), "the closure panicked");
    let place = place.unwrap_or_else(|| panic!("no database was created"));
    assert!(!place.exists(), "dropped although the test panicked");
}
