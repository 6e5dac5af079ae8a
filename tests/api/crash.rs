//! Crash safety of sending: `blazz serve` is killed (SIGKILL) while 1,000
//! messages are being sent through the sandbox, then started again. Every
//! message ends `sent` or later, and the network (whose journal survives
//! the kill, as WhatsApp's servers would) received each exactly once.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::TestDb;
use crate::restart::{cli_token, link_number, Serve};

const MESSAGES: usize = 1_000;

/// The customer of message `i`: fifty chats, so sends run side by side.
fn customer(i: usize) -> String {
    format!("+1415555{:04}", 2600 + i % 50)
}

/// Posts message `i` with its idempotency key, as a client that retries
/// until it gets an answer would; true if the server answered it.
async fn post(client: &reqwest::Client, base: &str, token: &str, account: &str, i: usize) -> bool {
    let sent = client
        .post(format!("{base}/api/v1/messages"))
        .bearer_auth(token)
        .header("Idempotency-Key", format!("crash-{i}"))
        .json(&json!({"account_id": account, "to": customer(i), "text": format!("crash test message {i}")}))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    match sent {
        Ok(r) => {
            let status = r.status().as_u16();
            assert!(status == 202 || status == 200, "message {i}: {status}");
            true
        }
        Err(_) => false,
    }
}

/// The journal's complete lines: what the network received.
fn journal(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn a_kill_while_sending_loses_and_doubles_nothing() {
    let testdb = TestDb::new().await;
    let url = testdb.url.clone();
    let dir = testdb.dir.path().to_path_buf();
    let journal_path = dir.join("sandbox-journal.jsonl");
    let env = [
        ("BLAZZ_SANDBOX__JOURNAL", journal_path.display().to_string()),
        ("BLAZZ_SANDBOX__ENFORCE_PACING", "false".to_string()),
        // Jobs the killed process held come back after two seconds.
        ("BLAZZ_JOBS__LEASE_SECS", "2".to_string()),
        ("BLAZZ_JOBS__RETRY_BASE_SECS", "1".to_string()),
        ("BLAZZ_JOBS__RETRY_CAP_SECS", "2".to_string()),
        // Two thousand requests in a few seconds from one token.
        ("BLAZZ_LIMITS__API_PER_MINUTE", "100000".to_string()),
    ];
    let token = cli_token(&url);
    let serve = Serve::start_with(&url, &dir, &env).await;
    let account = link_number(&serve, &token).await;
    serve.wait_status(&token, &account, "connected").await;

    // Eight clients send side by side (so accepted messages queue up ahead
    // of the sending); the server is killed once the network has taken
    // some but (very likely) not all of them.
    const CLIENTS: usize = 8;
    let mut posters = Vec::new();
    for k in 0..CLIENTS {
        let (serve_base, token, account) = (serve.base.clone(), token.clone(), account.clone());
        posters.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut answered = Vec::new();
            for i in (k..MESSAGES).step_by(CLIENTS) {
                answered.push((i, post(&client, &serve_base, &token, &account, i).await));
            }
            answered
        }));
    }
    for _ in 0..2000 {
        if journal(&journal_path).len() >= 150 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    serve.kill();
    let mut answered = vec![false; MESSAGES];
    for p in posters {
        for (i, ok) in p.await.unwrap() {
            answered[i] = ok;
        }
    }
    let at_kill = journal(&journal_path).len();
    assert!(
        at_kill > 0 && at_kill < MESSAGES,
        "the kill did not land mid-send ({at_kill} received)"
    );

    let serve = Serve::start_with(&url, &dir, &env).await;
    serve.wait_status(&token, &account, "connected").await;
    // The client repeats every request it has no answer for; and repeats
    // all the others too, which must change nothing.
    let unanswered = answered.iter().filter(|a| !**a).count();
    // Messages the network took whose `sent` the killed process never
    // recorded: the window exactly-once is about.
    let db = blazz_store::Db::connect(&url).await.unwrap();
    let pending: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM messages WHERE direction = 'out' AND status = 'pending'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let taken: std::collections::HashSet<String> = journal(&journal_path)
        .iter()
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect();
    let in_window = pending
        .iter()
        .filter(|(id,)| taken.contains(&id.replace('-', "").to_uppercase()))
        .count();
    eprintln!(
        "killed with {at_kill} of {MESSAGES} received by the network, {} accepted and pending \
         ({in_window} of them already taken by the network), {unanswered} requests unanswered",
        pending.len()
    );
    for i in 0..MESSAGES {
        assert!(
            post(&serve.client, &serve.base, &token, &account, i).await,
            "message {i} unanswered after restart"
        );
    }

    let mut counts: Vec<(String, i64)> = Vec::new();
    for _ in 0..1200 {
        counts = sqlx::query_as(
            "SELECT status, COUNT(*) FROM messages WHERE direction = 'out' GROUP BY status ORDER BY status",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let done: i64 = counts
            .iter()
            .filter(|(s, _)| ["sent", "delivered", "read"].contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum();
        if done == MESSAGES as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(
        total, MESSAGES as i64,
        "one stored message per request: {counts:?}"
    );
    assert!(
        counts
            .iter()
            .all(|(s, _)| ["sent", "delivered", "read"].contains(&s.as_str())),
        "every message sent or later: {counts:?}"
    );

    // The network's side: each text exactly once.
    let received = journal(&journal_path);
    let mut per_text: HashMap<String, usize> = HashMap::new();
    for m in &received {
        *per_text
            .entry(m["body"]["text"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    for i in 0..MESSAGES {
        let text = format!("crash test message {i}");
        assert_eq!(
            per_text.get(&text),
            Some(&1),
            "{text} received {:?} times",
            per_text.get(&text)
        );
    }
    assert_eq!(received.len(), MESSAGES, "nothing else was received");
    let (status, r) = serve
        .call(
            &token,
            reqwest::Method::GET,
            &format!("/api/v1/sandbox/accounts/{account}/received?limit=1"),
            json!(null),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["count"], MESSAGES,
        "the restarted network counts the same"
    );
    db.close().await;
    serve.kill();
    testdb.drop_schema().await;
}
