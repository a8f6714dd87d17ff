//! Both migration trees move in lockstep: the same versions, each with `up.sql` and `down.sql`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn tree(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend)
}

/// The version directories of one tree (ignoring stray files such as `.keep`).
fn versions(backend: &str) -> BTreeSet<String> {
    let dir = tree(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn postgres_and_sqlite_trees_list_the_same_versions() {
    let postgres = versions("postgres");
    let sqlite = versions("sqlite");
    assert!(!postgres.is_empty(), "no migrations at all");
    assert_eq!(
        postgres.symmetric_difference(&sqlite).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "versions present in only one tree"
    );
}

#[test]
fn every_version_has_a_non_empty_up_and_down_script_in_both_trees() {
    for backend in ["postgres", "sqlite"] {
        for version in versions(backend) {
            for script in ["up.sql", "down.sql"] {
                let path = tree(backend).join(&version).join(script);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(!text.trim().is_empty(), "{} is empty", path.display());
            }
        }
    }
}

#[test]
fn version_directories_are_named_date_sequence_underscore_name() {
    for backend in ["postgres", "sqlite"] {
        for version in versions(backend) {
            let (stamp, name) = version.split_once('_').unwrap_or_default();
            let digits: String = stamp.chars().filter(|c| *c != '-').collect();
            assert!(
                stamp.len() == 17
                    && digits.len() == 14
                    && digits.chars().all(|c| c.is_ascii_digit())
                    && !name.is_empty(),
                "{backend}/{version}: expected YYYY-MM-DD-NNNNNN_name"
            );
        }
    }
}

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Applies every migration, reverts them all, and applies them again; returns the tables
/// after the first apply and after the revert.
fn round_trip<C>(
    conn: &mut C,
    migrations: fn() -> diesel_migrations::EmbeddedMigrations,
    list_tables: &str,
) -> (Vec<String>, Vec<String>)
where
    C: diesel_migrations::MigrationHarness<C::Backend> + diesel::connection::LoadConnection,
    C: diesel::Connection,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, TableName>,
{
    use diesel::RunQueryDsl;
    let tables = |conn: &mut C| -> Vec<String> {
        diesel::sql_query(list_tables)
            .load::<TableName>(conn)
            .unwrap_or_else(|e| panic!("list tables: {e}"))
            .into_iter()
            .map(|t| t.name)
            .collect()
    };
    conn.run_pending_migrations(migrations())
        .unwrap_or_else(|e| panic!("apply: {e}"));
    let applied = tables(conn);
    conn.revert_all_migrations(migrations())
        .unwrap_or_else(|e| panic!("revert: {e}"));
    let reverted = tables(conn);
    let again = conn
        .run_pending_migrations(migrations())
        .unwrap_or_else(|e| panic!("apply again: {e}"));
    assert!(!again.is_empty(), "every version applies again");
    (applied, reverted)
}

#[test]
fn migrations_apply_revert_to_nothing_and_apply_again_on_the_backend_under_test() {
    use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
    let (applied, reverted) = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("keyward_migrations_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .unwrap_or_else(|e| panic!("create db: {e}"));
            let url = crate::helpers::database_beside(&admin_url, &name);
            let result = std::panic::catch_unwind(|| {
                let mut conn =
                    PgConnection::establish(&url).unwrap_or_else(|e| panic!("connect: {e}"));
                round_trip(
                    &mut conn,
                    || keyward::db::migrations::POSTGRES,
                    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' \
                     AND tablename <> '__diesel_schema_migrations' ORDER BY 1",
                )
            });
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
            result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }
        _ => {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
            let path = dir.path().join("m.db");
            let mut conn = SqliteConnection::establish(&path.display().to_string())
                .unwrap_or_else(|e| panic!("open: {e}"));
            round_trip(
                &mut conn,
                || keyward::db::migrations::SQLITE,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name <> '__diesel_schema_migrations' ORDER BY 1",
            )
        }
    };
    for table in ["users", "outstanding_tokens", "blacklisted_tokens"] {
        assert!(
            applied.iter().any(|t| t == table),
            "{table} is created: {applied:?}"
        );
    }
    assert_eq!(reverted, Vec::<String>::new(), "down.sql drops every table");
}

/// Migrations run without `database_statement_timeout`: an instance that starts while another
/// holds the migration lock (applying a long migration) waits for it, however long, instead of
/// failing to start once its statement deadline passes. PostgreSQL only (SQLite serves one
/// process).
#[actix_web::test]
async fn an_instance_waits_for_another_instances_migration_past_its_statement_timeout() {
    use diesel::RunQueryDsl;
    use keyward::db::migrations::MIGRATION_LOCK;

    if !crate::helpers::on_postgres() {
        return;
    }
    let app = crate::helpers::spawn_app().await;
    let hold = std::time::Duration::from_millis(1500);
    let mut holder = app.conn();
    let (held, released) = std::sync::mpsc::channel();
    let other = std::thread::spawn(move || {
        let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK})");
        keyward::with_conn!(&mut *holder, c => diesel::sql_query(lock).execute(c))
            .unwrap_or_else(|e| panic!("lock: {e}"));
        held.send(()).unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(hold);
        let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})");
        keyward::with_conn!(&mut *holder, c => diesel::sql_query(unlock).execute(c))
            .unwrap_or_else(|e| panic!("unlock: {e}"));
    });
    released.recv().unwrap_or_else(|e| panic!("{e}"));

    let mut settings = app.settings.clone();
    settings.database_statement_timeout = std::time::Duration::from_millis(200);
    let started = std::time::Instant::now();
    let second = keyward::startup::Application::build_with_clock(settings, app.clock.clone()).await;
    let waited = started.elapsed();
    other
        .join()
        .unwrap_or_else(|_| panic!("the lock holder panicked"));
    let second = second.unwrap_or_else(|e| panic!("the second instance did not start: {e}"));
    assert!(
        waited >= hold - std::time::Duration::from_millis(100),
        "it started after {waited:?}, before the lock was released"
    );
    second.pool().close();
}
