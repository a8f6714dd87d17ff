-- Whether rotation made a blacklist entry (the spent refresh token of a refresh), rather than
-- a revocation. PostgreSQL announces revocations to the other instances sharing the database
-- (see the PostgreSQL migration of the same name); a SQLite database serves one instance, so
-- only the column is added.
ALTER TABLE blacklisted_tokens ADD COLUMN rotated BOOLEAN NOT NULL DEFAULT 0;
