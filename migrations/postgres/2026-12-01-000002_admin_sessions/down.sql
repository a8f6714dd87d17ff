DROP INDEX users_last_login_idx;
DROP INDEX outstanding_tokens_created_idx;
DROP TABLE admin_sessions;
