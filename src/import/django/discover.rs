//! Which tables a Django database holds: the user model's (`auth_user`, `--user-table`, or
//! the one table with Django's user many-to-many tables beside it), its columns beyond
//! `AbstractUser`'s, and the tables that are missing.

use super::ImportError;
use super::database::{
    BLACKLISTED, CONTENT_TYPE, DatabaseSource, GROUP, GROUP_PERMISSIONS, OUTSTANDING, PERMISSION,
};
use super::source::{REQUIRED_USER_COLUMNS, STANDARD_USER_COLUMNS};

impl DatabaseSource {
    pub(super) fn discover(&mut self, user_table: Option<&str>) -> Result<(), ImportError> {
        let table = match user_table {
            Some(t) => {
                check_identifier(t)?;
                if !self.has(t) {
                    return Err(ImportError::Source(format!("no table {t} in the source")));
                }
                t.to_owned()
            }
            None => self.find_user_table()?,
        };
        let columns = self.columns(&table)?;
        for required in REQUIRED_USER_COLUMNS {
            if !columns.iter().any(|c| c == required) {
                return Err(ImportError::Source(format!(
                    "the user table {table} has no {required} column"
                )));
            }
        }
        self.layout.extra_user_columns = columns
            .iter()
            .filter(|c| !STANDARD_USER_COLUMNS.contains(&c.as_str()))
            .cloned()
            .collect();
        self.layout.missing_user_columns = STANDARD_USER_COLUMNS
            .iter()
            .filter(|s| !columns.iter().any(|c| c == *s))
            .map(|s| (*s).to_owned())
            .collect();
        self.user_columns = columns;
        self.user_groups = self.link_table(&format!("{table}_groups"), "group_id")?;
        self.user_permissions =
            self.link_table(&format!("{table}_user_permissions"), "permission_id")?;
        self.layout.user_table = table;
        let wanted = [
            PERMISSION,
            CONTENT_TYPE,
            GROUP,
            GROUP_PERMISSIONS,
            OUTSTANDING,
            BLACKLISTED,
        ];
        let mut missing: Vec<String> = wanted
            .iter()
            .filter(|t| !self.has(t))
            .map(|t| (*t).to_owned())
            .collect();
        let user_table = &self.layout.user_table;
        if self.user_groups.is_none() {
            missing.push(format!("{user_table}_groups"));
        }
        if self.user_permissions.is_none() {
            missing.push(format!("{user_table}_user_permissions"));
        }
        self.layout.missing_tables = missing;
        Ok(())
    }

    /// `auth_user`, or else the one table with Django's user many-to-many tables beside it.
    fn find_user_table(&mut self) -> Result<String, ImportError> {
        if self.has("auth_user") {
            return Ok("auth_user".into());
        }
        let candidates: Vec<String> = self
            .tables
            .iter()
            .filter(|t| {
                self.has(&format!("{t}_groups")) && self.has(&format!("{t}_user_permissions"))
            })
            .cloned()
            .collect();
        match candidates.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ImportError::Source(
                "no user table found (no auth_user, and no table with <table>_groups and \
                 <table>_user_permissions beside it): name it with --user-table"
                    .into(),
            )),
            many => Err(ImportError::Source(format!(
                "several tables look like the user model ({}): name it with --user-table",
                many.join(", ")
            ))),
        }
    }

    /// A many-to-many table of the user model and its user column (`user_id`, `customuser_id`).
    fn link_table(
        &mut self,
        table: &str,
        other: &str,
    ) -> Result<Option<(String, String)>, ImportError> {
        if !self.has(table) {
            return Ok(None);
        }
        let columns = self.columns(table)?;
        let user = columns
            .into_iter()
            .find(|c| c != "id" && c != other && c.ends_with("_id"));
        Ok(user.map(|u| (table.to_owned(), u)))
    }
}

fn check_identifier(name: &str) -> Result<(), ImportError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ImportError::Source(format!(
            "--user-table {name:?}: a table name is letters, digits and underscores"
        )));
    }
    Ok(())
}
