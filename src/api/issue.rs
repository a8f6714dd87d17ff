//! Issuing tokens for a user and describing tokens for the outstanding list; shared by login,
//! refresh, sliding and password change.

use actix::Addr;
use serde_json::Value;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::actors::ASK_TIMEOUT;
use crate::actors::token_blacklist::{Record, TokenBlacklist};
use crate::auth::UserSnapshot;
use crate::db::models::token::{NewOutstanding, digest};
use crate::db::stored_time;
use crate::error::ApiError;
use crate::jwt::{Decoded, Minted, Subject, TokenCodec};

/// The claims a user's tokens carry.
pub fn subject(user: &UserSnapshot, codec: &TokenCodec) -> Subject {
    let mut claims: Vec<(String, Value)> = codec
        .user_claims()
        .iter()
        .map(|field| {
            let value = match field.as_str() {
                "username" => Value::from(user.username.clone()),
                "email" => Value::from(user.email.clone()),
                "first_name" => Value::from(user.first_name.clone()),
                "last_name" => Value::from(user.last_name.clone()),
                "is_staff" => Value::from(user.is_staff),
                "is_superuser" => Value::from(user.is_superuser),
                _ => Value::Null,
            };
            (field.clone(), value)
        })
        .collect();
    let (groups_claim, permissions_claim) = codec.role_claims();
    if let Some(name) = groups_claim {
        claims.push((name.to_owned(), Value::from(user.groups.clone())));
    }
    if let Some(name) = permissions_claim {
        claims.push((
            name.to_owned(),
            Value::from(user.permissions.iter().cloned().collect::<Vec<_>>()),
        ));
    }
    Subject {
        user_id: user.id,
        stamp: user.security_stamp.clone(),
        claims,
    }
}

fn at(epoch: i64, fallback: OffsetDateTime) -> PrimitiveDateTime {
    stored_time(OffsetDateTime::from_unix_timestamp(epoch).unwrap_or(fallback))
}

/// The outstanding-list row of a token just minted.
pub fn minted_row(minted: &Minted, user_id: Option<i64>, now: OffsetDateTime) -> NewOutstanding {
    NewOutstanding {
        user_id,
        jti: minted.jti.clone(),
        token_digest: digest(&minted.token),
        created_at: at(minted.iat, now),
        expires_at: at(minted.exp, now),
    }
}

/// The outstanding-list row of a token presented by a client.
pub fn presented_row(
    raw: &str,
    token: &Decoded,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> NewOutstanding {
    let iat = token
        .payload
        .get("iat")
        .and_then(Value::as_i64)
        .unwrap_or(now.unix_timestamp());
    NewOutstanding {
        user_id,
        jti: token.jti.clone(),
        token_digest: digest(raw),
        created_at: at(iat, now),
        expires_at: at(token.exp, now),
    }
}

pub fn mint_failed(err: String) -> ApiError {
    ApiError::Internal(format!("token signing failed: {err}"))
}

/// A refresh token (recorded as outstanding) and its access token.
pub async fn issue_pair(
    codec: &TokenCodec,
    blacklist: &Addr<TokenBlacklist>,
    user: &UserSnapshot,
    now: OffsetDateTime,
) -> Result<(Minted, Minted), ApiError> {
    let ts = now.unix_timestamp();
    let refresh = codec
        .mint_refresh(&subject(user, codec), ts)
        .map_err(mint_failed)?;
    let access = codec
        .access_for(&refresh.payload, ts)
        .map_err(mint_failed)?;
    blacklist
        .send(Record(minted_row(&refresh, Some(user.id), now)))
        .timeout(ASK_TIMEOUT)
        .await??;
    Ok((refresh, access))
}
