//! Three keyward instances on one PostgreSQL database. A change made through one (A) is
//! enforced by the other two (B, C) within 100 ms of A's answer: the database announces it in
//! the writing transaction (a rotation: A, right after the commit) and every instance's change
//! listener applies it. B and C are probed about every millisecond from the moment A answered,
//! each kind of change 20 times; the p50 and p99 of the 40 times are printed and the p99 must
//! be at most 100 ms. PostgreSQL only: a SQLite database serves a single instance.

use std::time::Instant;

use diesel::{QueryDsl, RunQueryDsl};
use keyward::db::schema::blacklisted_tokens;
use reqwest::StatusCode;
use serde_json::json;

use crate::console_client::{ConsoleClient, superuser, token_id};
use crate::helpers::{PASSWORD, json_of};
use crate::instances::{
    Probe, TRIALS, Three, accepted, assert_on_both, forbidden, inactive, on_both, refused, report,
    root, three_instances,
};

#[actix_web::test]
async fn a_logout_on_one_instance_is_enforced_by_the_others_within_100_ms() {
    let Some(Three { a, others, _turn }) = three_instances("logout").await else {
        return;
    };
    let mut times = Vec::new();
    for trial in 0..TRIALS {
        let name = format!("user{trial}");
        a.create_user(&name);
        let (refresh, access) = a.login(&name, PASSWORD).await;
        assert_on_both(&a, &others, Probe::Me(&access), 200).await;
        assert_eq!(a.logout(&refresh).await.0, StatusCode::OK);
        let since = Instant::now();
        times.extend(on_both(&a, &others, Probe::Me(&access), since, refused).await);
    }
    report("a logout", &mut times);
}

#[actix_web::test]
async fn an_administrators_revocation_is_enforced_by_the_others_within_100_ms_and_so_is_its_lifting()
 {
    let Some(Three { a, others, _turn }) = three_instances("revocation").await else {
        return;
    };
    superuser(&a, "root");
    let mut console = ConsoleClient::signed_in(&a, "root").await;
    let (mut revoked, mut lifted) = (Vec::new(), Vec::new());
    for trial in 0..TRIALS {
        let name = format!("user{trial}");
        a.create_user(&name);
        let (refresh, access) = a.login(&name, PASSWORD).await;
        let token = format!("/admin/tokens/{}/", token_id(&a, &refresh));
        let both = Probe::MeAndVerify(&access, &refresh);
        assert_on_both(&a, &others, both, 200).await;

        console
            .submit(&format!("{token}revoke/"), &[])
            .await
            .assert_redirect(&token, "revoke");
        let since = Instant::now();
        revoked.extend(on_both(&a, &others, Probe::Me(&access), since, refused).await);
        assert_on_both(&a, &others, Probe::Me(&access), 401).await;

        console
            .submit(&format!("{token}unrevoke/"), &[])
            .await
            .assert_redirect(&token, "lift");
        let since = Instant::now();
        lifted.extend(on_both(&a, &others, both, since, accepted).await);
    }
    report("an administrator's revocation", &mut revoked);
    report("a lifted revocation", &mut lifted);
}

#[actix_web::test]
async fn a_deactivation_is_enforced_by_the_others_within_100_ms() {
    let Some(Three { a, others, _turn }) = three_instances("deactivation").await else {
        return;
    };
    let admin = root(&a).await;
    let mut times = Vec::new();
    for trial in 0..TRIALS {
        let name = format!("user{trial}");
        let id = a.create_user(&name);
        let access = a.access_for(&name).await;
        assert_on_both(&a, &others, Probe::Me(&access), 200).await;
        let (status, body) = json_of(
            a.patch_as(
                &format!("/api/users/{id}/"),
                &admin,
                &json!({"is_active": false}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let since = Instant::now();
        // `user_inactive`, not `Token is blacklisted`: the user cache heard it.
        times.extend(on_both(&a, &others, Probe::Me(&access), since, inactive).await);
    }
    report("a deactivation", &mut times);
}

#[actix_web::test]
async fn a_permission_removed_from_a_user_or_a_group_is_enforced_by_the_others_within_100_ms() {
    let Some(Three { a, others, _turn }) = three_instances("permission removal").await else {
        return;
    };
    let admin = root(&a).await;
    let (mut direct, mut grouped) = (Vec::new(), Vec::new());
    for trial in 0..TRIALS {
        let name = format!("user{trial}");
        let id = a.create_user(&name);
        a.grant(id, &["auth.view_user"]);
        let group = a.create_group(&format!("group{trial}"), &["auth.view_group"]);
        a.add_to_group(id, group);
        let access = a.access_for(&name).await;
        let own = Probe::Check(&access, "auth.view_user");
        let inherited = Probe::Check(&access, "auth.view_group");
        assert_on_both(&a, &others, own, 200).await;
        assert_on_both(&a, &others, inherited, 200).await;

        let (status, body) = json_of(
            a.patch_as(
                &format!("/api/users/{id}/"),
                &admin,
                &json!({"user_permissions": []}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let since = Instant::now();
        direct.extend(on_both(&a, &others, own, since, forbidden).await);

        let (status, body) = json_of(
            a.patch_as(
                &format!("/api/groups/{group}/"),
                &admin,
                &json!({"permissions": []}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let since = Instant::now();
        grouped.extend(on_both(&a, &others, inherited, since, forbidden).await);
    }
    report("a user's permission removed", &mut direct);
    report("a group's permission removed", &mut grouped);
}

#[actix_web::test]
async fn a_refresh_token_spent_by_rotation_is_refused_by_the_others_within_100_ms() {
    let Some(Three { a, others, _turn }) = three_instances("rotation").await else {
        return;
    };
    let mut times = Vec::new();
    for trial in 0..TRIALS {
        let name = format!("user{trial}");
        a.create_user(&name);
        let (refresh, _) = a.login(&name, PASSWORD).await;
        assert_on_both(&a, &others, Probe::Verify(&refresh), 200).await;
        let (status, body) = a.refresh(&refresh).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let since = Instant::now();
        times.extend(on_both(&a, &others, Probe::Verify(&refresh), since, refused).await);
    }
    report("a rotation", &mut times);
    // Announced by A after the commit, not by the database inside every refresh.
    let rotated: Vec<bool> = a
        .with_db(|conn| {
            keyward::with_conn!(conn, c => blacklisted_tokens::table
            .select(blacklisted_tokens::rotated)
            .load(c))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rotated, vec![true; TRIALS]);
    let stats = a
        .propagation
        .listener()
        .unwrap_or_else(|| panic!("A listens"));
    assert!(stats.published() > 0, "A published the rotations");
}
