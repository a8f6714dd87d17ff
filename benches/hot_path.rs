//! In-process cost of the hot pieces: token encode/decode, the revocation check with 1 M
//! revoked jtis, a permission check, and recording a request in the metrics.
//! `cargo bench --bench hot_path`.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Instant;

use actix_web::http::{Method, StatusCode};
use criterion::{Criterion, criterion_group, criterion_main};
use keyward::actors::revoked::RevokedSet;
use keyward::actors::token_blacklist::Lists;
use keyward::auth::{Caller, Model, ModelPermissions, Policy, UserSnapshot};
use keyward::config::Settings;
use keyward::db::models::revocation::Revocations;
use keyward::db::models::token::Revoked;
use keyward::jwt::{SessionClaim, SigningKeys, Subject, TokenCodec};
use keyward::metrics::{HttpMetrics, RouteLabel};
use time::OffsetDateTime;

struct Report;
impl Model for Report {
    const APP: &'static str = "reports";
    const NAME: &'static str = "report";
}

fn codec() -> TokenCodec {
    let settings = Settings {
        signing_key: Some(
            "a-benchmark-signing-key-of-at-least-32-bytes"
                .to_owned()
                .into(),
        ),
        ..Settings::default()
    };
    let keys = SigningKeys::from_settings(&settings, None).unwrap_or_else(|e| panic!("{e}"));
    TokenCodec::new(&settings, keys)
}

fn user() -> UserSnapshot {
    let mut permissions: BTreeSet<String> = (0..50).map(|i| format!("app{i}.view_thing")).collect();
    permissions.insert("reports.view_report".into());
    UserSnapshot {
        id: 7,
        username: "bencher".into(),
        email: "b@example.com".into(),
        first_name: String::new(),
        last_name: String::new(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
        security_stamp: "stamp".into(),
        date_joined: OffsetDateTime::UNIX_EPOCH,
        last_login: None,
        groups: vec!["analysts".into()],
        permissions,
        rendered: Default::default(),
    }
}

fn tokens(c: &mut Criterion) {
    let codec = codec();
    let now = 1_800_000_000;
    let subject = Subject {
        user_id: 7,
        stamp: "stamp".into(),
        claims: Vec::new(),
    };
    let refresh = codec
        .mint_refresh(
            &subject,
            SessionClaim {
                id: "0123456789abcdef0123456789abcdef",
                deadline: now + 3600,
            },
            now,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let access = codec
        .access_for(&refresh.payload, now, None)
        .unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("encode access token (HS256)", |b| {
        b.iter(|| codec.access_for(black_box(&refresh.payload), now, None))
    });
    c.bench_function("decode + validate access token (HS256)", |b| {
        b.iter(|| codec.decode(black_box(&access.token), now))
    });
}

fn revocation(c: &mut Criterion) {
    let lists = Lists {
        revoked: std::sync::Arc::new(RevokedSet::with_capacity(1_000_000)),
        ended: Default::default(),
    };
    let set = &lists.revoked;
    let expires_at = time::PrimitiveDateTime::new(
        time::macros::date!(2030 - 01 - 01),
        time::macros::time!(0:00),
    );
    let rows: Vec<Revoked> = (0..1_000_000u128)
        .map(|i| Revoked {
            jti: format!("{:032x}", i * 7919 + 1),
            expires_at,
        })
        .collect();
    lists.remember(&Revocations {
        tokens: rows.clone(),
        sessions: Vec::new(),
    });
    let hit = rows[123_456].jti.clone();
    let miss = format!("{:032x}", 2u128);
    c.bench_function("revocation check, 1M revoked, hit", |b| {
        b.iter(|| set.contains(black_box(&hit)))
    });
    c.bench_function("revocation check, 1M revoked, miss", |b| {
        b.iter(|| set.contains(black_box(&miss)))
    });
}

fn permissions(c: &mut Criterion) {
    let user = user();
    let method = Method::GET;
    c.bench_function("has_perm among 51 permissions", |b| {
        b.iter(|| user.has_perm(black_box("reports.view_report")))
    });
    c.bench_function("ModelPermissions policy (GET -> view)", |b| {
        b.iter(|| {
            ModelPermissions::<Report>::allows(&Caller {
                user: Some(black_box(&user)),
                method: &method,
            })
        })
    });
}

fn request_metrics(c: &mut Criterion) {
    let registry = prometheus::Registry::new();
    let http = HttpMetrics::register(&registry).unwrap_or_else(|e| panic!("{e}"));
    let label = RouteLabel::new("/api/me/");
    c.bench_function(
        "metrics: record one request, with its two clock reads",
        |b| {
            b.iter(|| {
                let started = Instant::now();
                http.record(&label, 0, StatusCode::OK, started.elapsed());
            })
        },
    );
    c.bench_function("metrics: the two clock reads alone", |b| {
        b.iter(|| black_box(Instant::now().elapsed()))
    });
}

criterion_group!(benches, tokens, revocation, permissions, request_metrics);
criterion_main!(benches);
