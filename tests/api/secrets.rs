//! Secrets at rest: provider credentials are sealed before they reach the
//! database, rotation re-seals them while the app runs, and the wrong key
//! is a clear error.

use std::time::Duration;

use blazz::config::{Secret, SecretsConfig};
use blazz::jobs::Registry;
use blazz::secrets::{self, owner, Key, Keyring, LiveKeyring, SecretRef};
use blazz_domain::WorkspaceId;

use crate::helpers::{backend, Backend, TestApp};

fn account_secret(ws: WorkspaceId, account: &str, name: &str) -> SecretRef {
    SecretRef::new(Some(ws), owner::ACCOUNT, account, name)
}

async fn put(app: &TestApp, r: &SecretRef, value: &str) {
    let mut conn = app.db.write().await.unwrap();
    secrets::put(&app.state().keyring, &mut conn, r, value.as_bytes())
        .await
        .unwrap();
}

async fn get(keys: &LiveKeyring, app: &TestApp, r: &SecretRef) -> anyhow::Result<Option<String>> {
    let mut conn = app.db.pool.acquire().await.unwrap();
    Ok(secrets::get_string(keys, &mut conn, r)
        .await?
        .map(|s| s.to_string()))
}

async fn key_counts(app: &TestApp) -> Vec<(String, i64)> {
    let mut conn = app.db.pool.acquire().await.unwrap();
    blazz_store::secrets::count_by_key(&mut conn).await.unwrap()
}

fn blazz(app: &TestApp) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_blazz"));
    cmd.arg("--data-dir")
        .arg(app.testdb.dir.path())
        .env("BLAZZ_DATABASE_URL", &app.testdb.url)
        .env_remove("BLAZZ_SECRETS__MASTER_KEY")
        .env_remove("BLAZZ_SECRETS__OLD_KEYS")
        .env_remove("BLAZZ_SECRETS__NEW_KEY");
    cmd
}

fn key_file(app: &TestApp) -> serde_json::Value {
    let path = secrets::key_file_path(app.testdb.dir.path());
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn sealed_secrets_open_only_unaltered_in_their_own_row() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    let keys = &app.state().keyring;
    let token = account_secret(acme.id, "acc-1", "cloud_token");
    put(&app, &token, "EAAG-token-1").await;
    assert_eq!(
        get(keys, &app, &token).await.unwrap().as_deref(),
        Some("EAAG-token-1")
    );

    // Replacing keeps one row; another workspace does not see it.
    put(&app, &token, "EAAG-token-2").await;
    assert_eq!(
        get(keys, &app, &token).await.unwrap().as_deref(),
        Some("EAAG-token-2")
    );
    let theirs = account_secret(other.id, "acc-1", "cloud_token");
    assert_eq!(get(keys, &app, &theirs).await.unwrap(), None);
    let instance = SecretRef::new(None, owner::INSTANCE, "meta", "app_secret");
    put(&app, &instance, "meta-app-secret").await;
    assert_eq!(
        get(keys, &app, &instance).await.unwrap().as_deref(),
        Some("meta-app-secret")
    );
    assert_eq!(
        key_counts(&app).await.iter().map(|(_, n)| n).sum::<i64>(),
        2
    );

    // A ciphertext moved to another row does not open there.
    let stored = {
        let mut conn = app.db.pool.acquire().await.unwrap();
        blazz_store::secrets::get(&mut conn, &token)
            .await
            .unwrap()
            .unwrap()
    };
    let moved = account_secret(acme.id, "acc-1", "webhook_secret");
    {
        let mut conn = app.db.write().await.unwrap();
        blazz_store::secrets::put(&mut conn, &moved, &stored.key_id, &stored.sealed)
            .await
            .unwrap();
    }
    let err = get(keys, &app, &moved).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("belongs to another record"),
        "{err:#}"
    );

    // An altered ciphertext does not open.
    let mut parts: Vec<String> = stored.sealed.split('.').map(String::from).collect();
    // (The first character: the last one may carry only padding bits.)
    let first = parts[3].remove(0);
    parts[3].insert(0, if first == 'A' { 'B' } else { 'A' });
    sqlx::query("UPDATE secrets SET sealed = $1 WHERE id = $2")
        .bind(parts.join("."))
        .bind(&stored.id)
        .execute(&app.db.writer)
        .await
        .unwrap();
    let err = get(keys, &app, &token).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("cloud_token") && msg.contains("altered"),
        "{msg}"
    );

    // A keyring without the key says which key is missing.
    let stranger = LiveKeyring::fixed(Keyring::new(Key::generate(), []));
    let err = get(&stranger, &app, &instance).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&stored.key_id) && msg.contains("does not hold"),
        "{msg}"
    );

    // The store refuses to hand an owner's secret name to another tenant.
    let mut conn = app.db.write().await.unwrap();
    assert!(secrets::put(&app.state().keyring, &mut conn, &theirs, b"x")
        .await
        .is_err());
    assert!(secrets::delete(&mut conn, &token).await.unwrap());
    assert!(!secrets::delete(&mut conn, &token).await.unwrap());
    drop(conn);
    app.finish().await;
}

#[tokio::test]
async fn the_raw_database_never_holds_a_secret_in_clear() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let mut plaintexts = Vec::new();
    for i in 0..20 {
        let value = format!("PLAINTEXT-device-key-{i}-{}", rand::random::<u64>());
        let r = account_secret(acme.id, &format!("acc-{i}"), "device_keys");
        put(&app, &r, &format!("first {value}")).await;
        put(&app, &r, &value).await; // the replaced value must not linger either
        plaintexts.push(value);
    }
    let name = "webhook_signing_secret_name";
    put(
        &app,
        &SecretRef::new(Some(acme.id), owner::WEBHOOK, "hook-1", name),
        "whsec_PLAINTEXT_x",
    )
    .await;
    plaintexts.push("whsec_PLAINTEXT_x".into());

    match backend() {
        Backend::Sqlite => {
            let mut raw = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                let path = app.testdb.dir.path().join(format!("blazz.db{suffix}"));
                if let Ok(bytes) = std::fs::read(&path) {
                    raw.extend(bytes);
                }
            }
            let contains = |needle: &str| raw.windows(needle.len()).any(|w| w == needle.as_bytes());
            // The search works: what is stored in clear is found.
            assert!(contains(name), "the search found nothing stored in clear");
            assert!(
                !contains("PLAINTEXT"),
                "a secret is in clear in the SQLite files"
            );
            for p in &plaintexts {
                assert!(!contains(p), "{p} is in clear in the SQLite files");
            }
            // Nor is the key that seals them.
            let key = key_file(&app)["keys"][0]["key"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(!contains(&key));
        }
        Backend::Postgres => {
            let sealed: Vec<(String,)> = sqlx::query_as("SELECT sealed FROM secrets")
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
            let rows: Vec<(String,)> = sqlx::query_as("SELECT s::text FROM secrets s")
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
            assert_eq!(sealed.len(), 21);
            assert!(rows.iter().any(|(r,)| r.contains(name)), "{rows:?}");
            for (text,) in sealed.iter().chain(&rows) {
                assert!(!text.contains("PLAINTEXT"), "a secret is in clear: {text}");
            }
        }
    }
    let keys = &app.state().keyring;
    for (i, p) in plaintexts.iter().take(20).enumerate() {
        let r = account_secret(acme.id, &format!("acc-{i}"), "device_keys");
        assert_eq!(
            get(keys, &app, &r).await.unwrap().as_deref(),
            Some(p.as_str())
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn keys_rotate_reseals_everything_while_the_app_keeps_reading_and_writing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let keys = &app.state().keyring;
    let old_id = keys.current_id();
    let mut written = Vec::new();
    for i in 0..300 {
        let r = if i % 10 == 0 {
            SecretRef::new(None, owner::INSTANCE, format!("inst-{i}"), "secret")
        } else {
            account_secret(acme.id, &format!("acc-{i}"), "cloud_token")
        };
        put(&app, &r, &format!("value-{i}")).await;
        written.push((r, format!("value-{i}")));
    }

    let mut child = blazz(&app)
        .args(["keys", "rotate", "--batch", "16"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The app keeps serving secrets while the rotation runs.
    let mut i = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let (r, value) = &written[i % written.len()];
        assert_eq!(
            get(keys, &app, r).await.unwrap().as_deref(),
            Some(value.as_str())
        );
        let r = account_secret(acme.id, &format!("during-{i}"), "cloud_token");
        put(&app, &r, &format!("during-value-{i}")).await;
        written.push((r, format!("during-value-{i}")));
        i += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    assert!(i > 0, "the rotation ended before the app did anything");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let file = key_file(&app);
    let new_id = file["current"].as_str().unwrap().to_string();
    assert_ne!(new_id, old_id);
    assert!(stdout.contains(&new_id), "{stdout}");
    assert_eq!(
        key_counts(&app).await,
        vec![(new_id.clone(), written.len() as i64)]
    );
    // The old key sealed nothing any more, so it left the key file.
    let ids: Vec<&str> = file["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![new_id.as_str()]);

    // The running app reads every secret and seals new ones under the new key.
    for (r, value) in &written {
        assert_eq!(
            get(keys, &app, r).await.unwrap().as_deref(),
            Some(value.as_str())
        );
    }
    let after = account_secret(acme.id, "after", "cloud_token");
    put(&app, &after, "after-value").await;
    assert_eq!(keys.current_id(), new_id);
    assert_eq!(
        key_counts(&app).await,
        vec![(new_id, written.len() as i64 + 1)]
    );

    // `keys status` agrees.
    let out = blazz(&app).args(["keys", "status"]).output().unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && status.contains("current"),
        "{status}"
    );
    assert_eq!(status.lines().count(), 1, "{status}");
    app.finish().await;
}

#[tokio::test]
async fn a_configured_master_key_is_used_and_no_key_file_is_written() {
    let key = Key::generate();
    let b64 = key.to_base64().to_string();
    let app = TestApp::spawn_with(
        |c| c.secrets.master_key = Some(Secret::new(b64.clone())),
        Registry::builtin(),
    )
    .await;
    let acme = app.tenant("Acme").await;
    let r = account_secret(acme.id, "acc", "cloud_token");
    put(&app, &r, "configured").await;
    assert_eq!(key_counts(&app).await, vec![(key.id().to_string(), 1)]);
    assert!(!secrets::key_file_path(app.testdb.dir.path()).exists());
    assert_eq!(
        get(&app.state().keyring, &app, &r)
            .await
            .unwrap()
            .as_deref(),
        Some("configured")
    );
    assert!(!format!("{:?}", app.state().keyring).contains(&b64));
    app.finish().await;
}

#[tokio::test]
async fn a_wrong_master_key_cannot_open_existing_secrets() {
    let right = Key::generate();
    let app = TestApp::spawn_with(
        |c| c.secrets.master_key = Some(Secret::new(right.to_base64().as_str())),
        Registry::builtin(),
    )
    .await;
    let acme = app.tenant("Acme").await;
    let r = account_secret(acme.id, "acc", "device_keys");
    put(&app, &r, "device-keys").await;

    let dir = app.testdb.dir.path();
    let wrong = Key::generate();
    let config = |master: &Key, old: &[&Key]| SecretsConfig {
        master_key: Some(Secret::new(master.to_base64().as_str())),
        old_keys: old
            .iter()
            .map(|k| Secret::new(k.to_base64().as_str()))
            .collect(),
        ..SecretsConfig::default()
    };
    let wrong_ring = LiveKeyring::load(&config(&wrong, &[]), dir).unwrap();
    let err = format!("{:#}", get(&wrong_ring, &app, &r).await.unwrap_err());
    assert!(
        err.contains(right.id()) && err.contains("secrets.master_key"),
        "{err}"
    );
    assert!(!err.contains("device-keys"), "{err}");
    // The previous key listed in old_keys opens it again.
    let with_old = LiveKeyring::load(&config(&wrong, &[&right]), dir).unwrap();
    assert_eq!(
        get(&with_old, &app, &r).await.unwrap().as_deref(),
        Some("device-keys")
    );

    // Keys that are not keys are refused at start, without echoing them.
    for bad in ["not base64!", "c2hvcnQ="] {
        let cfg = SecretsConfig {
            master_key: Some(Secret::new(bad)),
            ..SecretsConfig::default()
        };
        let err = format!("{:#}", LiveKeyring::load(&cfg, dir).unwrap_err());
        assert!(
            err.contains("secrets.master_key") && !err.contains(bad),
            "{err}"
        );
    }
    let out = blazz(&app)
        .args(["keys", "status"])
        .env("BLAZZ_SECRETS__MASTER_KEY", "c2hvcnQ=")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("32 bytes"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    app.finish().await;
}

/// The documented rotation of a configured master key: the running app
/// lists the new key in old_keys, `keys rotate` is given the new key.
#[tokio::test]
async fn a_configured_master_key_rotates_to_the_key_given() {
    let old = Key::generate();
    let new = Key::generate();
    let (old_b64, new_b64) = (old.to_base64().to_string(), new.to_base64().to_string());
    let app = TestApp::spawn_with(
        |c| {
            c.secrets.master_key = Some(Secret::new(old_b64.clone()));
            c.secrets.old_keys = vec![Secret::new(new_b64.clone())];
        },
        Registry::builtin(),
    )
    .await;
    let acme = app.tenant("Acme").await;
    for i in 0..30 {
        put(
            &app,
            &account_secret(acme.id, &format!("a{i}"), "t"),
            &format!("v{i}"),
        )
        .await;
    }
    // Without the new key nothing changes key.
    let out = blazz(&app)
        .args(["keys", "rotate"])
        .env("BLAZZ_SECRETS__MASTER_KEY", &old_b64)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(key_counts(&app).await, vec![(old.id().to_string(), 30)]);

    let out = blazz(&app)
        .args(["keys", "rotate", "--batch", "7"])
        .env("BLAZZ_SECRETS__MASTER_KEY", &old_b64)
        .env("BLAZZ_SECRETS__NEW_KEY", &new_b64)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("set secrets.master_key"), "{stdout}");
    assert_eq!(key_counts(&app).await, vec![(new.id().to_string(), 30)]);
    assert!(!secrets::key_file_path(app.testdb.dir.path()).exists());
    for i in 0..30 {
        let r = account_secret(acme.id, &format!("a{i}"), "t");
        let got = get(&app.state().keyring, &app, &r).await.unwrap();
        assert_eq!(got.as_deref(), Some(format!("v{i}").as_str()));
    }

    // After the swap, old_keys given as an environment list are read.
    let out = blazz(&app)
        .args(["keys", "status"])
        .env("BLAZZ_SECRETS__MASTER_KEY", &new_b64)
        .env("BLAZZ_SECRETS__OLD_KEYS", format!("[\"{old_b64}\"]"))
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        status.contains(&format!("{}\t30 secrets\tcurrent", new.id())),
        "{status}"
    );
    assert!(
        status.contains(&format!("{}\t0 secrets", old.id())),
        "{status}"
    );
    app.finish().await;
}
