DROP TABLE token_sessions;
