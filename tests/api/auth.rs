//! The command line's account and token commands, as an operator uses them.

use blazz_domain::Role;

use crate::helpers::{TestApp, PASSWORD};

fn blazz(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_blazz"))
        .args(args)
        .env("BLAZZ_DATABASE_URL", url)
        .env("BLAZZ_NEW_USER_PASSWORD", PASSWORD)
        .output()
        .unwrap()
}

#[tokio::test]
async fn cli_user_and_token_give_a_working_api_token() {
    let app = TestApp::spawn().await;
    let url = app.testdb.url.clone();
    let out = blazz(
        &url,
        &[
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--name",
            "Ops",
            "--workspace",
            "Ops Team",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = blazz(
        &url,
        &[
            "token",
            "create",
            "--workspace",
            "ops-team",
            "--role",
            "admin",
            "--name",
            "script",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("blz_") && token.len() == 47, "{token}");

    let (status, ws) = app.get(&token, "/api/v1/workspace").await;
    assert_eq!(status, 200);
    assert_eq!(ws["slug"], "ops-team");
    let (_, me) = app.get(&token, "/api/v1/me").await;
    assert_eq!(me["role"], "admin");
    let (_, members) = app.get(&token, "/api/v1/members").await;
    assert_eq!(members["data"][0]["email"], "ops@example.com");
    let (_, audit) = app.get(&token, "/api/v1/audit").await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["token.created", "workspace.created"]);
    assert_eq!(audit["data"][0]["actor_kind"], "cli");
    app.finish().await;
}

#[tokio::test]
async fn cli_refuses_bad_input_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let url = app.testdb.url.clone();
    let out = blazz(
        &url,
        &[
            "token",
            "create",
            "--workspace",
            "nope",
            "--role",
            "admin",
            "--name",
            "x",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no workspace has the slug"));
    let out = blazz(
        &url,
        &[
            "token",
            "create",
            "--workspace",
            "nope",
            "--role",
            "root",
            "--name",
            "x",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
    let out = blazz(
        &url,
        &[
            "user",
            "create",
            "--email",
            "not-an-email",
            "--name",
            "X",
            "--workspace",
            "X",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an e-mail address"));
    app.finish().await;
}

#[tokio::test]
async fn tokens_are_stored_hashed_never_in_clear() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Hashes").await;
    let agent = app.token(t.id, Role::Agent).await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT token_hash, token_prefix FROM api_tokens")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    for (hash, prefix) in rows {
        assert_ne!(hash, t.token);
        assert_ne!(hash, agent);
        assert_eq!(hash.len(), 64);
        assert_eq!(prefix.len(), 12);
    }
    app.finish().await;
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_blazz"))
        .args([
            "--log-format",
            "json",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "migrate",
        ])
        .env("RUST_LOG", "info")
        .env_remove("BLAZZ_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("blazz.db").exists());
    for line in String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.is_empty())
    {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v["level"].is_string());
    }
}
