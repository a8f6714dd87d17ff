//! A refresh token's rotation in one statement, on PostgreSQL: the session moves on to the
//! successor, the successor is recorded as outstanding and the presented token is blacklisted,
//! all in one data-modifying `WITH` statement (one round trip instead of one per step). It
//! applies only when it can finish the rotation by itself; otherwise it changes nothing and the
//! caller goes on with the general path ([`super::token_session::advance`] and friends) in the
//! same transaction, which also tells why a refresh was refused. SQLite has no data-modifying
//! `WITH`: it always takes the general path. Run inside [`crate::db::DbConn::write`].

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use time::PrimitiveDateTime;

use super::token::NewOutstanding;
use super::token_session::Advance;
use crate::db::{DbConn, DbError};

/// A rotation to try in one statement.
#[derive(Debug, Clone, Copy)]
pub struct Rotation<'a> {
    /// The session's move; its `next` is the successor's jti.
    pub advance: &'a Advance<'a>,
    /// The successor's row, minted before its session's deadline was known: it applies only
    /// when that deadline does not cut the successor's lifetime short.
    pub successor: &'a NewOutstanding,
    /// Blacklist the presented token (it must then be recorded already).
    pub blacklist_old: bool,
}

/// A rotation that went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// The session's deadline.
    pub deadline: PrimitiveDateTime,
    /// Whether this statement blacklisted the presented token.
    pub blacklisted: bool,
}

/// The statement with its values, for a policy: strict (only the session's current token
/// may be rotated) and blacklisting the spent token or not. Its text depends only on the
/// policy, so each connection prepares it once and then only binds and executes it (the
/// values are bound, never spliced in; a value used twice is bound twice).
struct Statement<'a, const STRICT: bool, const BLACKLIST: bool> {
    rotation: &'a Rotation<'a>,
    idle_before: PrimitiveDateTime,
}

/// What a connection's statement cache knows a [`Statement`] by: one per policy.
struct Policy<const STRICT: bool, const BLACKLIST: bool>;

impl<const STRICT: bool, const BLACKLIST: bool> QueryId for Statement<'_, STRICT, BLACKLIST> {
    type QueryId = Policy<STRICT, BLACKLIST>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const STRICT: bool, const BLACKLIST: bool> Query for Statement<'_, STRICT, BLACKLIST> {
    /// The session's deadline, and how many tokens this statement blacklisted (0 or 1).
    type SqlType = (Timestamp, BigInt);
}

impl<const STRICT: bool, const BLACKLIST: bool> RunQueryDsl<PgConnection>
    for Statement<'_, STRICT, BLACKLIST>
{
}

impl<const STRICT: bool, const BLACKLIST: bool> QueryFragment<Pg>
    for Statement<'_, STRICT, BLACKLIST>
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let Rotation {
            advance, successor, ..
        } = self.rotation;
        out.push_sql("WITH ");
        if BLACKLIST {
            // Looked up once: it must be recorded to rotate, and it is what gets blacklisted.
            out.push_sql("presented AS (SELECT id FROM outstanding_tokens WHERE jti = ");
            out.push_bind_param::<Text, _>(advance.presented)?;
            out.push_sql("), ");
        }
        out.push_sql("advanced AS (UPDATE token_sessions SET current_jti = ");
        out.push_bind_param::<Text, _>(&successor.jti)?;
        out.push_sql(", previous_jti = ");
        out.push_bind_param::<Text, _>(advance.presented)?;
        out.push_sql(", rotated_at = ");
        out.push_bind_param::<Timestamp, _>(&advance.now)?;
        out.push_sql(", refreshed_at = ");
        out.push_bind_param::<Timestamp, _>(&advance.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, _>(advance.session_id)?;
        out.push_sql(" AND ended_at IS NULL AND expires_at > ");
        out.push_bind_param::<Timestamp, _>(&advance.now)?;
        out.push_sql(" AND refreshed_at > ");
        out.push_bind_param::<Timestamp, _>(&self.idle_before)?;
        // The deadline must not cut the successor's lifetime short (it was minted without it).
        out.push_sql(" AND expires_at >= ");
        out.push_bind_param::<Timestamp, _>(&successor.expires_at)?;
        if STRICT {
            out.push_sql(" AND current_jti = ");
            out.push_bind_param::<Text, _>(advance.presented)?;
        }
        if BLACKLIST {
            out.push_sql(" AND EXISTS (SELECT 1 FROM presented)");
        }
        out.push_sql(
            " RETURNING expires_at), recorded AS (INSERT INTO outstanding_tokens \
             (user_id, jti, token_digest, created_at, expires_at) SELECT ",
        );
        out.push_bind_param::<Nullable<BigInt>, _>(&successor.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&successor.jti)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&successor.token_digest)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&successor.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&successor.expires_at)?;
        out.push_sql(" FROM advanced ON CONFLICT (jti) DO NOTHING)");
        if BLACKLIST {
            out.push_sql(
                ", spent AS (INSERT INTO blacklisted_tokens (token_id, blacklisted_at, rotated) \
                 SELECT presented.id, ",
            );
            out.push_bind_param::<Timestamp, _>(&advance.now)?;
            out.push_sql(
                ", TRUE FROM presented, advanced ON CONFLICT (token_id) DO NOTHING RETURNING token_id) \
                 SELECT expires_at, (SELECT count(*) FROM spent) FROM advanced",
            );
        } else {
            out.push_sql(" SELECT expires_at, 0::bigint FROM advanced");
        }
        Ok(())
    }
}

/// Whether [`at_once`] can apply on this connection (PostgreSQL).
pub fn available(conn: &DbConn) -> bool {
    matches!(conn, DbConn::Postgres(_))
}

/// Rotates in one statement when it can; `None` when nothing changed: on SQLite, when the
/// session did not match (refused, a retry, a reuse), when its deadline cuts the successor
/// short, when the presented token is not recorded, or when `advance.next` is not the
/// successor's jti. Of several concurrent rotations of one strict session exactly one
/// matches (the row lock, and `current_jti` checked again once it is held).
pub fn at_once(conn: &mut DbConn, rotation: &Rotation<'_>) -> Result<Option<Rotated>, DbError> {
    let DbConn::Postgres(c) = conn else {
        return Ok(None);
    };
    if rotation.advance.next != Some(rotation.successor.jti.as_str()) {
        return Ok(None);
    }
    let idle_before = rotation
        .advance
        .idle_before
        .unwrap_or_else(super::token_session::long_ago);
    let row = match (rotation.advance.strict, rotation.blacklist_old) {
        (true, true) => run::<true, true>(c, rotation, idle_before),
        (true, false) => run::<true, false>(c, rotation, idle_before),
        (false, true) => run::<false, true>(c, rotation, idle_before),
        (false, false) => run::<false, false>(c, rotation, idle_before),
    }?;
    Ok(row.map(|(deadline, blacklisted)| Rotated {
        deadline,
        blacklisted: blacklisted > 0,
    }))
}

fn run<const STRICT: bool, const BLACKLIST: bool>(
    c: &mut PgConnection,
    rotation: &Rotation<'_>,
    idle_before: PrimitiveDateTime,
) -> QueryResult<Option<(PrimitiveDateTime, i64)>> {
    Statement::<STRICT, BLACKLIST> {
        rotation,
        idle_before,
    }
    .get_result(c)
    .optional()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn sql(strict: bool, blacklist_old: bool) -> String {
        let now = datetime!(2026-12-04 12:00);
        let advance = Advance {
            session_id: "s",
            presented: "old",
            next: Some("new"),
            strict,
            now,
            idle_before: None,
            grace_since: None,
        };
        let successor = NewOutstanding {
            user_id: Some(1),
            jti: "new".into(),
            token_digest: "d".into(),
            created_at: now,
            expires_at: now,
        };
        let rotation = Rotation {
            advance: &advance,
            successor: &successor,
            blacklist_old,
        };
        match (strict, blacklist_old) {
            (true, true) => text::<true, true>(&rotation, now),
            (false, false) => text::<false, false>(&rotation, now),
            _ => String::new(),
        }
    }

    fn text<const STRICT: bool, const BLACKLIST: bool>(
        rotation: &Rotation<'_>,
        idle_before: PrimitiveDateTime,
    ) -> String {
        let statement = Statement::<STRICT, BLACKLIST> {
            rotation,
            idle_before,
        };
        diesel::debug_query::<Pg, _>(&statement).to_string()
    }

    #[test]
    fn the_statement_checks_what_the_policy_asks_and_binds_every_value() {
        let lax = sql(false, false);
        assert!(!lax.contains("AND current_jti ="), "{lax}");
        assert!(!lax.contains("blacklisted_tokens"), "{lax}");
        let strict = sql(true, true);
        assert!(strict.contains("AND current_jti = $"), "{strict}");
        assert!(
            strict.contains("INSERT INTO blacklisted_tokens"),
            "{strict}"
        );
        assert!(
            strict.contains("presented AS (SELECT id FROM outstanding_tokens WHERE jti = $"),
            "{strict}"
        );
        for sql in [lax, strict] {
            assert!(sql.contains("AND expires_at >= $"), "{sql}");
            assert!(sql.contains("INSERT INTO outstanding_tokens"), "{sql}");
            let text = sql.split(" -- binds:").next().unwrap_or_default();
            assert!(
                !text.contains("'"),
                "values are bound, never in the text: {sql}"
            );
        }
    }
}
