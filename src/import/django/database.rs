//! A Django database (PostgreSQL or SQLite) as a [`Source`]: the tables are found first, then
//! read with plain SQL through diesel, in batches by id.

use diesel::prelude::*;

use super::rows::{GroupRow, Highest, Pair, PermissionRow, TokenRow, UserRow};
use super::source::{
    DjangoGroup, DjangoPermission, DjangoToken, DjangoUser, IdEvidence, Layout, Source,
};
use super::{ImportError, postgres, sqlite};
use crate::db::{DatabaseUrl, DbConn};

pub(super) const PERMISSION: &str = "auth_permission";
pub(super) const CONTENT_TYPE: &str = "django_content_type";
pub(super) const GROUP: &str = "auth_group";
pub(super) const GROUP_PERMISSIONS: &str = "auth_group_permissions";
pub(super) const OUTSTANDING: &str = "token_blacklist_outstandingtoken";
pub(super) const BLACKLISTED: &str = "token_blacklist_blacklistedtoken";

pub struct DatabaseSource {
    conn: DbConn,
    described: String,
    pub(super) layout: Layout,
    pub(super) tables: Vec<String>,
    pub(super) user_columns: Vec<String>,
    /// `(table, user column)` of the user model's many-to-many tables, when present.
    pub(super) user_groups: Option<(String, String)>,
    pub(super) user_permissions: Option<(String, String)>,
}

impl DatabaseSource {
    /// Opens the database read-only and finds its tables. `user_table` overrides discovery.
    pub fn open(url: &DatabaseUrl, user_table: Option<&str>) -> Result<Self, ImportError> {
        let conn = match url {
            DatabaseUrl::Postgres(raw) => postgres::open(raw)?,
            DatabaseUrl::Sqlite(path) => sqlite::open(path)?,
        };
        let mut source = Self {
            conn,
            described: url.redacted(),
            layout: Layout::default(),
            tables: Vec::new(),
            user_columns: Vec::new(),
            user_groups: None,
            user_permissions: None,
        };
        source.tables = source.list_tables()?;
        source.discover(user_table)?;
        Ok(source)
    }

    fn list_tables(&mut self) -> Result<Vec<String>, ImportError> {
        Ok(match &mut self.conn {
            DbConn::Postgres(c) => postgres::tables(c)?,
            DbConn::Sqlite(c) => sqlite::tables(c)?,
        })
    }

    pub(super) fn columns(&mut self, table: &str) -> Result<Vec<String>, ImportError> {
        Ok(match &mut self.conn {
            DbConn::Postgres(c) => postgres::columns(c, table)?,
            DbConn::Sqlite(c) => sqlite::columns(c, table)?,
        })
    }

    pub(super) fn has(&self, table: &str) -> bool {
        self.tables.iter().any(|t| t == table)
    }

    fn utc(&self, column: &str) -> String {
        match self.conn {
            DbConn::Postgres(_) => postgres::utc(column),
            DbConn::Sqlite(_) => sqlite::utc(column),
        }
    }

    /// The select expression of a standard user column, or its default when the table lacks it.
    fn user_column(&self, name: &str, default: &str) -> String {
        if !self.user_columns.iter().any(|c| c == name) {
            return format!("{default} AS {name}");
        }
        match name {
            "date_joined" | "last_login" => format!("{} AS {name}", self.utc(name)),
            "email" | "first_name" | "last_name" => format!("COALESCE({name}, '') AS {name}"),
            _ => name.to_owned(),
        }
    }

    fn links(
        &mut self,
        table: Option<(String, String)>,
        right: &str,
        after: i64,
        upto: i64,
    ) -> Result<Vec<(i64, i64)>, ImportError> {
        let Some((table, user)) = table else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT CAST({user} AS BIGINT) AS a, CAST({right} AS BIGINT) AS b FROM {} \
             WHERE {user} > {after} AND {user} <= {upto}",
            quoted(&table)
        );
        self.load_pairs(&sql)
    }

    fn load_pairs(&mut self, sql: &str) -> Result<Vec<(i64, i64)>, ImportError> {
        let rows: Vec<Pair> =
            crate::with_conn!(&mut self.conn, c => diesel::sql_query(sql).load(c))?;
        Ok(rows.into_iter().map(|p| (p.a, p.b)).collect())
    }
}

/// A table name as an SQL identifier.
pub fn quoted(table: &str) -> String {
    format!("\"{}\"", table.replace('"', "\"\""))
}

impl Source for DatabaseSource {
    fn describe(&self) -> String {
        self.described.clone()
    }

    fn layout(&self) -> &Layout {
        &self.layout
    }

    fn users_after(&mut self, after: i64, limit: i64) -> Result<Vec<DjangoUser>, ImportError> {
        let (yes, no, epoch) = match self.conn {
            DbConn::Postgres(_) => ("TRUE", "FALSE", "TIMESTAMP '1970-01-01 00:00:00'"),
            DbConn::Sqlite(_) => ("1", "0", "'1970-01-01 00:00:00'"),
        };
        let columns = [
            self.user_column("email", "''"),
            self.user_column("first_name", "''"),
            self.user_column("last_name", "''"),
            self.user_column("is_active", yes),
            self.user_column("is_staff", no),
            self.user_column("is_superuser", no),
            self.user_column("date_joined", epoch),
            self.user_column("last_login", "NULL"),
        ]
        .join(", ");
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, username, password, {columns} FROM {} \
             WHERE id > {after} ORDER BY id LIMIT {limit}",
            quoted(&self.layout.user_table)
        );
        let rows: Vec<UserRow> =
            crate::with_conn!(&mut self.conn, c => diesel::sql_query(&sql).load(c))?;
        Ok(rows
            .into_iter()
            .map(|r| DjangoUser {
                id: r.id,
                username: r.username,
                email: r.email,
                password: r.password,
                first_name: r.first_name,
                last_name: r.last_name,
                is_active: r.is_active,
                is_staff: r.is_staff,
                is_superuser: r.is_superuser,
                date_joined: r.date_joined,
                last_login: r.last_login,
            })
            .collect())
    }

    fn user_groups(&mut self, after: i64, upto: i64) -> Result<Vec<(i64, i64)>, ImportError> {
        let table = self.user_groups.clone();
        self.links(table, "group_id", after, upto)
    }

    fn user_permissions(&mut self, after: i64, upto: i64) -> Result<Vec<(i64, i64)>, ImportError> {
        let table = self.user_permissions.clone();
        self.links(table, "permission_id", after, upto)
    }

    fn permissions(&mut self) -> Result<Vec<DjangoPermission>, ImportError> {
        if !self.has(PERMISSION) || !self.has(CONTENT_TYPE) {
            return Ok(Vec::new());
        }
        let sql = "SELECT CAST(p.id AS BIGINT) AS id, ct.app_label, ct.model, p.codename, p.name \
                   FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id \
                   ORDER BY p.id";
        let rows: Vec<PermissionRow> =
            crate::with_conn!(&mut self.conn, c => diesel::sql_query(sql).load(c))?;
        Ok(rows
            .into_iter()
            .map(|r| DjangoPermission {
                id: r.id,
                app_label: r.app_label,
                model: r.model,
                codename: r.codename,
                name: r.name,
            })
            .collect())
    }

    fn groups(&mut self) -> Result<Vec<DjangoGroup>, ImportError> {
        if !self.has(GROUP) {
            return Ok(Vec::new());
        }
        let sql = "SELECT CAST(id AS BIGINT) AS id, name FROM auth_group ORDER BY id";
        let rows: Vec<GroupRow> =
            crate::with_conn!(&mut self.conn, c => diesel::sql_query(sql).load(c))?;
        Ok(rows
            .into_iter()
            .map(|r| DjangoGroup {
                id: r.id,
                name: r.name,
            })
            .collect())
    }

    fn group_permissions(&mut self) -> Result<Vec<(i64, i64)>, ImportError> {
        if !self.has(GROUP_PERMISSIONS) {
            return Ok(Vec::new());
        }
        self.load_pairs(
            "SELECT CAST(group_id AS BIGINT) AS a, CAST(permission_id AS BIGINT) AS b \
             FROM auth_group_permissions",
        )
    }

    fn tokens_after(&mut self, after: i64, limit: i64) -> Result<Vec<DjangoToken>, ImportError> {
        if !self.has(OUTSTANDING) {
            return Ok(Vec::new());
        }
        let blacklisted_at = if self.has(BLACKLISTED) {
            self.utc("b.blacklisted_at")
        } else {
            "NULL".into()
        };
        let join = if self.has(BLACKLISTED) {
            format!("LEFT JOIN {BLACKLISTED} b ON b.token_id = o.id")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT CAST(o.id AS BIGINT) AS id, CAST(o.user_id AS BIGINT) AS user_id, o.jti, o.token, \
             {} AS created_at, {} AS expires_at, {blacklisted_at} AS blacklisted_at \
             FROM {OUTSTANDING} o {join} WHERE o.id > {after} ORDER BY o.id LIMIT {limit}",
            self.utc("o.created_at"),
            self.utc("o.expires_at"),
        );
        let rows: Vec<TokenRow> =
            crate::with_conn!(&mut self.conn, c => diesel::sql_query(&sql).load(c))?;
        Ok(rows
            .into_iter()
            .map(|r| DjangoToken {
                id: r.id,
                user_id: r.user_id,
                jti: r.jti,
                token: r.token,
                created_at: r.created_at,
                expires_at: r.expires_at,
                blacklisted_at: r.blacklisted_at,
            })
            .collect())
    }

    fn highest_user_id(&mut self) -> Result<(i64, IdEvidence), ImportError> {
        let table = self.layout.user_table.clone();
        let sql = format!(
            "SELECT MAX(CAST(id AS BIGINT)) AS v FROM {}",
            quoted(&table)
        );
        let highest: Highest =
            crate::with_conn!(&mut self.conn, c => diesel::sql_query(&sql).get_result(c))?;
        let row = highest.v.unwrap_or(0);
        let (sequence, evidence) = match &mut self.conn {
            DbConn::Postgres(c) => (postgres::sequence_value(c, &table)?, IdEvidence::Sequence),
            DbConn::Sqlite(c) => (
                sqlite::sequence_value(c, &table)?,
                IdEvidence::SqliteSequence,
            ),
        };
        Ok(match sequence {
            Some(seq) => (seq.max(row), evidence),
            None => (row, IdEvidence::HighestRow),
        })
    }
}
