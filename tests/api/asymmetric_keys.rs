//! RS256, PS256, ES256, ES384 and EdDSA with PEM keys (made here with the `openssl` command):
//! tokens are signed with the private key, carry the algorithm in their header, and verify.
//! A private and a public key that do not belong together stop the server at start.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, spawn_app_with, test_database, test_settings};

/// Writes a PKCS#8 private key and its public key; `args` are `openssl genpkey` options.
fn key_pair(dir: &Path, name: &str, args: &[&str]) -> (std::path::PathBuf, std::path::PathBuf) {
    let (private, public) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.pub")),
    );
    let made = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .arg("-out")
        .arg(&private)
        .output()
        .unwrap_or_else(|e| panic!("the openssl command is needed for this test: {e}"));
    assert!(
        made.status.success(),
        "openssl genpkey {args:?}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let public_made = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(public_made.status.success());
    (private, public)
}

fn header_alg(token: &str) -> String {
    let header = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD.decode(header).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    json["alg"].as_str().unwrap_or_default().to_owned()
}

#[actix_web::test]
async fn each_asymmetric_algorithm_signs_and_verifies_tokens() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cases: [(&str, &[&str]); 5] = [
        (
            "RS256",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
        (
            "PS256",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
        (
            "ES256",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (
            "ES384",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        ),
        ("EdDSA", &["-algorithm", "ed25519"]),
    ];
    for (algorithm, args) in cases {
        let (private, public) = key_pair(dir.path(), algorithm, args);
        let app = spawn_app_with(|s| {
            s.algorithm = algorithm.into();
            s.signing_key_file = Some(private.clone());
            s.verifying_key_file = Some(public.clone());
        })
        .await;
        app.create_user("alice");
        let (refresh, access) = app.login("alice", PASSWORD).await;
        assert_eq!(
            header_alg(&access),
            algorithm,
            "the header names the algorithm"
        );
        assert_eq!(
            app.me(&access).await.status(),
            StatusCode::OK,
            "{algorithm}: a protected route"
        );
        assert_eq!(
            app.verify(&refresh).await.0,
            StatusCode::OK,
            "{algorithm}: verify"
        );
        assert_eq!(
            app.refresh(&refresh).await.0,
            StatusCode::OK,
            "{algorithm}: refresh"
        );
    }
}

#[actix_web::test]
async fn a_key_pair_that_does_not_belong_together_stops_the_server() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (private, _) = key_pair(
        dir.path(),
        "one",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let (_, other_public) = key_pair(
        dir.path(),
        "two",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let (_db, url) = test_database();
    let mut settings = test_settings(url);
    settings.algorithm = "ES256".into();
    settings.signing_key_file = Some(private);
    settings.verifying_key_file = Some(other_public);
    let outcome = keyward::startup::Application::build(settings).await;
    let message = outcome.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("do not belong together"),
        "got: {message:?}"
    );
}
