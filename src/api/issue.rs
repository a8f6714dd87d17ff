//! Issuing tokens for a user and describing tokens for the outstanding list; shared by login,
//! refresh, sliding and password change.

use actix::Addr;
use actix_web::HttpRequest;
use actix_web::http::header::USER_AGENT;
use serde_json::Value;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::session_policy::SessionPolicy;
use crate::actors::ASK_TIMEOUT;
use crate::actors::token_blacklist::{Start, TokenBlacklist};
use crate::actors::token_store::StartSession;
use crate::auth::UserSnapshot;
use crate::client::ClientView;
use crate::db::models::token::{NewOutstanding, digest};
use crate::db::models::token_session::{NewTokenSession, SessionKind};
use crate::db::stored_time;
use crate::error::ApiError;
use crate::jwt::{Decoded, Minted, SessionClaim, Subject, TokenCodec, new_session_id};
use crate::metrics::{Mailbox, timed};

/// The longest user agent kept with a session.
const USER_AGENT_MAX: usize = 512;

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
    let iat = token.issued_at().unwrap_or(now.unix_timestamp());
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

/// What a login needs to start a session.
pub struct Login<'a> {
    pub req: &'a HttpRequest,
    pub codec: &'a TokenCodec,
    pub blacklist: &'a Addr<TokenBlacklist>,
    pub policy: &'a SessionPolicy,
    pub now: OffsetDateTime,
}

impl Login<'_> {
    /// A new session: a refresh token (recorded as outstanding) and its access token.
    pub async fn pair(&self, user: &UserSnapshot) -> Result<(Minted, Minted), ApiError> {
        let ts = self.now.unix_timestamp();
        let id = new_session_id();
        let session = SessionClaim {
            id: &id,
            deadline: self.policy.deadline(self.now),
        };
        let refresh = self
            .codec
            .mint_refresh(&subject(user, self.codec), session, ts)
            .map_err(mint_failed)?;
        let access = self
            .codec
            .access_for(&refresh.payload, ts, Some(session.deadline))
            .map_err(mint_failed)?;
        self.start(&id, SessionKind::Pair, &refresh, user.id)
            .await?;
        Ok((refresh, access))
    }

    /// A new session of one sliding token.
    pub async fn sliding(&self, user: &UserSnapshot) -> Result<Minted, ApiError> {
        let id = new_session_id();
        let session = SessionClaim {
            id: &id,
            deadline: self.policy.deadline(self.now),
        };
        let token = self
            .codec
            .mint_sliding(
                &subject(user, self.codec),
                session,
                self.now.unix_timestamp(),
            )
            .map_err(mint_failed)?;
        self.start(&id, SessionKind::Sliding, &token, user.id)
            .await?;
        Ok(token)
    }

    async fn start(
        &self,
        id: &str,
        kind: SessionKind,
        first: &Minted,
        user_id: i64,
    ) -> Result<(), ApiError> {
        let created_at = stored_time(self.now);
        let user_agent = self
            .req
            .headers()
            .get(USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let session = NewTokenSession {
            id: id.to_owned(),
            user_id,
            kind: kind.as_str(),
            current_jti: first.jti.clone(),
            created_at,
            refreshed_at: created_at,
            expires_at: at(self.policy.deadline(self.now), self.now),
            user_agent: truncated(user_agent, USER_AGENT_MAX),
            client_address: ClientView::of(self.req)
                .address
                .map(|a| a.to_string())
                .unwrap_or_default(),
        };
        let call = self
            .blacklist
            .send(Start(StartSession {
                session,
                token: minted_row(first, Some(user_id), self.now),
            }))
            .timeout(ASK_TIMEOUT);
        timed(self.req, Mailbox::TokenBlacklist, call).await??;
        Ok(())
    }
}

/// At most `max` bytes of `text`, cut at a character boundary; no NUL (PostgreSQL refuses it).
fn truncated(text: String, max: usize) -> String {
    let text = text.replace('\0', "");
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
