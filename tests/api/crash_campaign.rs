//! Crash safety of campaigns: `blazz serve` is killed (SIGKILL) while a
//! campaign to 1,000 contacts is sending from two sandbox numbers, then
//! started again. The campaign resumes by itself and completes; the
//! network (whose journal survives the kill) received exactly one message
//! per contact: none lost, none twice.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::campaigns::phone;
use crate::helpers::TestDb;
use crate::restart::{cli_token, link_number, Serve};

const CONTACTS: usize = 1_000;

fn journal(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn a_kill_mid_campaign_loses_and_doubles_no_recipient() {
    let testdb = TestDb::new().await;
    let url = testdb.url.clone();
    let dir = testdb.dir.path().to_path_buf();
    let journal_path = dir.join("sandbox-journal.jsonl");
    let env = [
        ("BLAZZ_SANDBOX__JOURNAL", journal_path.display().to_string()),
        ("BLAZZ_SANDBOX__ENFORCE_PACING", "false".to_string()),
        ("BLAZZ_JOBS__LEASE_SECS", "2".to_string()),
        ("BLAZZ_JOBS__RETRY_BASE_SECS", "1".to_string()),
        ("BLAZZ_JOBS__RETRY_CAP_SECS", "2".to_string()),
    ];
    let token = cli_token(&url);
    let serve = Serve::start_with(&url, &dir, &env).await;
    let numbers = [
        link_number(&serve, &token).await,
        link_number(&serve, &token).await,
    ];
    for n in &numbers {
        serve.wait_status(&token, n, "connected").await;
    }
    let mut csv = String::from("phone,name\n");
    for i in 0..CONTACTS {
        csv.push_str(&format!("{},Customer {i}\n", phone(i)));
    }
    let post = reqwest::Method::POST;
    let (status, r) = serve
        .call(
            &token,
            post.clone(),
            "/api/v1/contacts/import",
            json!({"csv": csv, "tags": ["all"]}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let (status, c) = serve
        .call(
            &token,
            post.clone(),
            "/api/v1/campaigns",
            json!({"name": "Crash", "text": "Hi {{contact.name}}", "account_ids": numbers,
                   "audience": {"tags": ["all"]}, "settings": {"pacing": "off", "typing": false}}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    let (status, c) = serve
        .call(
            &token,
            post.clone(),
            &format!("/api/v1/campaigns/{id}/start"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{c}");

    for _ in 0..4000 {
        if journal(&journal_path).len() >= 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    serve.kill();
    let at_kill = journal(&journal_path).len();
    assert!(
        at_kill > 0 && at_kill < CONTACTS,
        "the kill did not land mid-campaign ({at_kill} received)"
    );

    let serve = Serve::start_with(&url, &dir, &env).await;
    let mut last = Value::Null;
    for _ in 0..1200 {
        let (status, c) = serve
            .call(
                &token,
                reqwest::Method::GET,
                &format!("/api/v1/campaigns/{id}"),
                json!(null),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        if c["status"] == "completed" {
            last = c;
            break;
        }
        last = c;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(last["status"], "completed", "{last}");
    assert_eq!(last["stats"]["sent"], CONTACTS, "{last}");
    eprintln!("killed with {at_kill} of {CONTACTS} received; completed after restart");

    let received = journal(&journal_path);
    let mut per_phone: HashMap<String, usize> = HashMap::new();
    for m in &received {
        *per_phone
            .entry(m["to"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    for i in 0..CONTACTS {
        assert_eq!(per_phone.get(&phone(i)), Some(&1), "{} received", phone(i));
    }
    assert_eq!(received.len(), CONTACTS, "nothing else was received");
    let db = blazz_store::Db::connect(&url).await.unwrap();
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE campaign_id = $1")
        .bind(&id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, CONTACTS as i64, "one stored message per recipient");
}
