// Portable schema shared by PostgreSQL and SQLite: only BigInt, Text, Bool and Timestamp (UTC).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password -> Text,
        first_name -> Text,
        last_name -> Text,
        is_active -> Bool,
        is_staff -> Bool,
        is_superuser -> Bool,
        date_joined -> Timestamp,
        last_login -> Nullable<Timestamp>,
        security_stamp -> Text,
    }
}

diesel::table! {
    groups (id) {
        id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    permissions (id) {
        id -> BigInt,
        codename -> Text,
        name -> Text,
    }
}

diesel::table! {
    user_groups (user_id, group_id) {
        user_id -> BigInt,
        group_id -> BigInt,
    }
}

diesel::table! {
    group_permissions (group_id, permission_id) {
        group_id -> BigInt,
        permission_id -> BigInt,
    }
}

diesel::table! {
    user_permissions (user_id, permission_id) {
        user_id -> BigInt,
        permission_id -> BigInt,
    }
}

diesel::table! {
    outstanding_tokens (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        jti -> Text,
        token_digest -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    blacklisted_tokens (id) {
        id -> BigInt,
        token_id -> BigInt,
        blacklisted_at -> Timestamp,
        rotated -> Bool,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(user_groups -> users (user_id));
diesel::joinable!(user_groups -> groups (group_id));
diesel::joinable!(group_permissions -> groups (group_id));
diesel::joinable!(group_permissions -> permissions (permission_id));
diesel::joinable!(user_permissions -> users (user_id));
diesel::joinable!(user_permissions -> permissions (permission_id));
diesel::joinable!(outstanding_tokens -> users (user_id));
diesel::joinable!(blacklisted_tokens -> outstanding_tokens (token_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    groups,
    permissions,
    user_groups,
    group_permissions,
    user_permissions,
    outstanding_tokens,
    blacklisted_tokens,
    server_secrets,
);

diesel::table! {
    admin_sessions (id) {
        id -> BigInt,
        token_digest -> Text,
        user_id -> BigInt,
        user_stamp -> Text,
        csrf_token -> Text,
        flash -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(admin_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(admin_sessions, users);

diesel::table! {
    login_failures (key_digest) {
        key_digest -> Text,
        scope -> Text,
        username -> Text,
        address -> Text,
        failures -> BigInt,
        last_failed_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    token_sessions (id) {
        id -> Text,
        user_id -> BigInt,
        kind -> Text,
        current_jti -> Text,
        previous_jti -> Nullable<Text>,
        rotated_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        refreshed_at -> Timestamp,
        expires_at -> Timestamp,
        user_agent -> Text,
        client_address -> Text,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
        ended_by -> Nullable<BigInt>,
    }
}

diesel::joinable!(token_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(token_sessions, users);
diesel::allow_tables_to_appear_in_same_query!(token_sessions, outstanding_tokens);

diesel::table! {
    security_events (id) {
        id -> BigInt,
        kind -> Text,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        subject_id -> Nullable<BigInt>,
        username -> Text,
        session_id -> Nullable<Text>,
        client_address -> Text,
        user_agent -> Text,
        detail -> Text,
    }
}
