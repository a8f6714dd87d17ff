-- Sign-in by email address (login_fields) and the unique-address check compare lower(email).
CREATE INDEX users_email_lower ON users (lower(email));
