//! Server secrets kept in the database (the generated signing key), shared by every instance.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::server_secrets;
use crate::db::{DbConn, DbError};

/// The stored value named `name`, creating it from `generate` when absent. Concurrent
/// starters agree on one value: the first insert wins and everyone reads it back.
/// Returns the value and whether this call created it.
pub fn get_or_create(
    conn: &mut DbConn,
    name: &str,
    now: PrimitiveDateTime,
    generate: impl FnOnce() -> String,
) -> Result<(String, bool), DbError> {
    let candidate = generate();
    let inserted = crate::with_conn!(conn, c => diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::value.eq(&candidate),
            server_secrets::created_at.eq(now),
        ))
        .on_conflict(server_secrets::name)
        .do_nothing()
        .execute(c))?;
    let value: String = crate::with_conn!(conn, c => server_secrets::table
        .find(name)
        .select(server_secrets::value)
        .first(c))?;
    Ok((value, inserted == 1))
}
