//! What an import found and did, printed at the end of a run (or of a dry run).

use std::collections::BTreeMap;
use std::fmt;

use super::plan::Conflict;
use super::source::{IdEvidence, Layout};

/// Rows of one kind: how many the source holds, and what the run did with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub seen: usize,
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
}

/// Links of one table: how many the source holds, and what the run added and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkCounts {
    pub seen: usize,
    pub added: usize,
    pub removed: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub source: String,
    pub dry_run: bool,
    pub layout: Layout,
    pub users: Counts,
    /// Users skipped for a conflict (`--on-conflict=skip`), the first few of them.
    pub skipped_users: Vec<Conflict>,
    /// keyward users deleted because a Django user took their username (`--on-conflict=overwrite`).
    pub overwritten_users: usize,
    /// Password hashes by Django algorithm name.
    pub hash_formats: BTreeMap<&'static str, usize>,
    /// Legacy hashes replaced by an unusable password (no `--allow-legacy-hashes`).
    pub legacy_refused: usize,
    pub groups: Counts,
    pub permissions: Counts,
    /// Permissions other than the four Django creates for every model.
    pub custom_permissions: usize,
    /// Links naming a group or permission the source does not hold (dropped).
    pub dangling_links: usize,
    pub user_groups: LinkCounts,
    pub user_permissions: LinkCounts,
    pub group_permissions: LinkCounts,
    pub tokens: Counts,
    /// Tokens blacklisted in Django, and the blacklist entries this run added.
    pub blacklisted_seen: usize,
    pub blacklisted_added: usize,
    pub highest_user_id: i64,
    pub id_evidence: Option<IdEvidence>,
    pub next_user_id_before: i64,
    pub next_user_id_after: i64,
}

impl Report {
    /// How many rows or links this run created, changed or removed.
    pub fn changes(&self) -> usize {
        self.users.created
            + self.users.updated
            + self.overwritten_users
            + self.groups.created
            + self.permissions.created
            + self.user_groups.added
            + self.user_groups.removed
            + self.user_permissions.added
            + self.user_permissions.removed
            + self.group_permissions.added
            + self.group_permissions.removed
            + self.tokens.created
            + self.blacklisted_added
            + usize::from(self.next_user_id_after != self.next_user_id_before)
    }
}

/// `48210` as `48 210`.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = grouped;
        let imported = |c: &Counts| c.seen.saturating_sub(c.skipped);
        writeln!(f, "Source: {}", self.source)?;
        let layout = &self.layout;
        writeln!(f, "User table: {}", layout.user_table)?;
        if !layout.extra_user_columns.is_empty() {
            writeln!(
                f,
                "Skipped user columns (not carried): {}",
                layout.extra_user_columns.join(", ")
            )?;
        }
        if !layout.missing_user_columns.is_empty() {
            writeln!(
                f,
                "User columns absent (imported empty): {}",
                layout.missing_user_columns.join(", ")
            )?;
        }
        for missing in &layout.missing_tables {
            writeln!(f, "Not in the source (that part skipped): {missing}")?;
        }
        if self.dry_run {
            writeln!(
                f,
                "Dry run: nothing was written. A real run would do what follows."
            )?;
        }
        writeln!(
            f,
            "Imported {} users, {} groups, {} permissions ({} custom), {} memberships,",
            g(imported(&self.users)),
            g(self.groups.seen),
            g(self.permissions.seen),
            g(self.custom_permissions),
            g(self.user_groups.seen),
        )?;
        writeln!(
            f,
            "{} outstanding refresh tokens ({} blacklisted). {} skipped.",
            g(imported(&self.tokens)),
            g(self.blacklisted_seen),
            g(self.users.skipped + self.tokens.skipped),
        )?;
        let hashes: Vec<String> = self
            .hash_formats
            .iter()
            .map(|(k, v)| format!("{k} {}", g(*v)))
            .collect();
        if !hashes.is_empty() {
            writeln!(f, "Password hashes: {}.", hashes.join(", "))?;
        }
        if self.legacy_refused > 0 {
            writeln!(
                f,
                "{} legacy password hashes refused: those users were imported without a usable \
                 password (--allow-legacy-hashes imports them as they are).",
                g(self.legacy_refused)
            )?;
        }
        writeln!(
            f,
            "Users: {} created, {} updated, {} unchanged, {} skipped for a conflict{}.",
            g(self.users.created),
            g(self.users.updated),
            g(self
                .users
                .seen
                .saturating_sub(self.users.created + self.users.updated + self.users.skipped)),
            g(self.users.skipped),
            if self.overwritten_users > 0 {
                format!(
                    ", {} keyward users deleted to free their usernames",
                    g(self.overwritten_users)
                )
            } else {
                String::new()
            },
        )?;
        for conflict in &self.skipped_users {
            writeln!(f, "  skipped: {conflict}")?;
        }
        writeln!(
            f,
            "Groups: {} created; permissions: {} created.",
            g(self.groups.created),
            g(self.permissions.created)
        )?;
        for (name, links) in [
            ("Group memberships", &self.user_groups),
            ("User permissions", &self.user_permissions),
            ("Group permissions", &self.group_permissions),
        ] {
            writeln!(
                f,
                "{name}: {} in Django, {} added, {} removed.",
                g(links.seen),
                g(links.added),
                g(links.removed)
            )?;
        }
        if self.dangling_links > 0 {
            writeln!(
                f,
                "{} links named a group or permission missing from the source (dropped).",
                g(self.dangling_links)
            )?;
        }
        writeln!(
            f,
            "Tokens: {} recorded, {} blacklist entries added, {} skipped (their user was skipped).",
            g(self.tokens.created),
            g(self.blacklisted_added),
            g(self.tokens.skipped),
        )?;
        let evidence = match self.id_evidence {
            Some(IdEvidence::Sequence) => "its id sequence",
            Some(IdEvidence::SqliteSequence) => "sqlite_sequence",
            Some(IdEvidence::HighestRow) | None => {
                "the highest id present only (a deleted user with a higher id is not seen)"
            }
        };
        writeln!(
            f,
            "User ids: Django issued up to {} (from {evidence}); keyward's next user id {} {}.",
            self.highest_user_id,
            if self.dry_run { "would be" } else { "is" },
            self.next_user_id_after,
        )?;
        match self.changes() {
            0 => write!(f, "0 changes: keyward already holds all of it."),
            n if self.dry_run => write!(f, "{} changes would be made.", g(n)),
            n => write!(f, "{} changes made.", g(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_spaced() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(48210), "48 210");
        assert_eq!(super::grouped(1_000_000), "1 000 000");
    }
}
