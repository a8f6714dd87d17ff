//! `DATABASE_URL` parsing: the scheme names the backend, and nothing else is guessed.

use std::path::PathBuf;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A libpq connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
    /// A SQLite database file.
    Sqlite(PathBuf),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("database_url is empty")]
    Empty,
    #[error(
        "database_url must start with postgres://, postgresql:// or sqlite:// (got {0:?}); \
         for a SQLite file write sqlite://path/to/keyward.db"
    )]
    UnknownScheme(String),
    #[error(
        "database_url sqlite:// needs a file path, e.g. sqlite://keyward.db (in-memory databases cannot be shared by a pool)"
    )]
    SqliteNeedsFile,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(UrlError::Empty);
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(UrlError::SqliteNeedsFile);
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        let scheme = raw
            .split("://")
            .next()
            .filter(|_| raw.contains("://"))
            .unwrap_or(raw);
        Err(UrlError::UnknownScheme(scheme.chars().take(40).collect()))
    }

    /// The URL with any password replaced, for log lines.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => redact_password(url),
        }
    }

    /// The TCP ports a PostgreSQL URL names (5432 where a host names none); empty for SQLite.
    pub fn tcp_ports(&self) -> Vec<u16> {
        let Self::Postgres(url) = self else {
            return Vec::new();
        };
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        hosts
            .split(',')
            .map(|host| {
                host.rsplit_once(':')
                    .and_then(|(_, p)| p.parse().ok())
                    .unwrap_or(5432)
            })
            .collect()
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = userinfo.split(':').next().unwrap_or_default();
    let sep = if tail.is_empty() && !rest.contains('/') {
        ""
    } else {
        "/"
    };
    format!("{scheme}://{user}:***@{host}{sep}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_ports_are_read_from_every_host() {
        let url = |u: &str| DatabaseUrl::parse(u).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url("postgres://u:p@db/k").tcp_ports(), vec![5432]);
        assert_eq!(
            url("postgres://u@a:6000,b/k?x=1").tcp_ports(),
            vec![6000, 5432]
        );
        assert_eq!(url("postgres://[::1]:5433/k").tcp_ports(), vec![5433]);
        assert!(url("sqlite://k.db").tcp_ports().is_empty());
    }

    #[test]
    fn schemes_choose_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres("postgres://u@h/db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://h/db"),
            Ok(DatabaseUrl::Postgres("postgresql://h/db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://a/b.db"),
            Ok(DatabaseUrl::Sqlite("a/b.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db"),
            Ok(DatabaseUrl::Sqlite("/tmp/x.db".into()))
        );
    }

    #[test]
    fn anything_else_is_refused_not_guessed() {
        for raw in [
            "keyward.db",
            "host=localhost dbname=x",
            "mysql://h/db",
            "sqlite:x.db",
        ] {
            assert!(
                matches!(DatabaseUrl::parse(raw), Err(UrlError::UnknownScheme(_))),
                "{raw}"
            );
        }
        assert_eq!(DatabaseUrl::parse(""), Err(UrlError::Empty));
        assert_eq!(
            DatabaseUrl::parse("sqlite://:memory:"),
            Err(UrlError::SqliteNeedsFile)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://"),
            Err(UrlError::SqliteNeedsFile)
        );
    }

    #[test]
    fn passwords_never_reach_log_lines() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/keyward")
            .unwrap_or(DatabaseUrl::Sqlite("x".into()));
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/keyward");
    }
}
