//! A closed pool hands out no connection and opens none again: a stopped server does no
//! database work while its process exits.

use std::time::Duration;

use diesel::prelude::*;
use keyward::db::{DatabaseUrl, DbPool, PoolTimeouts, build_pool};

use crate::helpers::{TestDb, test_database};

fn pool_for(url: &str) -> DbPool {
    let url = DatabaseUrl::parse(url).unwrap_or_else(|e| panic!("{e}"));
    let timeouts = PoolTimeouts {
        connect: Duration::from_secs(2),
        wait: Duration::from_secs(2),
        statement: Duration::from_secs(2),
    };
    build_pool(&url, 4, timeouts).unwrap_or_else(|e| panic!("{e}"))
}

/// Ends every connection to database `name` but the caller's, and counts those still there
/// after the pool has had `settle` to open new ones.
fn connections_after_ending_them(admin_url: &str, name: &str, pool: &DbPool) -> i64 {
    let mut admin = PgConnection::establish(admin_url).unwrap_or_else(|e| panic!("{e}"));
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .execute(&mut admin)
    .unwrap_or_else(|e| panic!("{e}"));
    // Queries (which find the ended connections lost), the pool's idle minimum and the
    // prober may each open a connection.
    for _ in 0..10 {
        drop(keyward::db::ping(pool));
        std::thread::sleep(Duration::from_millis(100));
    }
    let count = diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "(SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}')"
    ));
    diesel::select(count)
        .get_result(&mut admin)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_closed_pool_hands_out_nothing_and_opens_no_connection_again() {
    let (db, url) = test_database();
    let pool = pool_for(&url);
    keyward::db::ping(&pool).unwrap_or_else(|e| panic!("an open pool answers: {e}"));
    if let TestDb::Postgres { admin_url, name } = &db {
        assert!(
            connections_after_ending_them(admin_url, name, &pool) >= 1,
            "an open pool reconnects once its connections are ended"
        );
    }

    let clone = pool.clone();
    pool.close();
    let refused = clone.get().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        refused.contains("closed"),
        "every clone is closed: {refused}"
    );
    assert!(
        keyward::db::ping(&pool).is_err(),
        "a closed pool answers nothing"
    );
    if let TestDb::Postgres { admin_url, name } = &db {
        assert_eq!(
            connections_after_ending_them(admin_url, name, &pool),
            0,
            "a closed pool opened a connection again"
        );
    }
}
