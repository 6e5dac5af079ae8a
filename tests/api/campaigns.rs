//! Campaigns end to end on sandbox numbers: planning (tags, opt-outs,
//! cooldown), weighted sending, personalised text, statistics, recipients
//! and their CSV, the life cycle (start, pause, resume, cancel), replies
//! and opt-out keywords, roles, and another workspace that sees nothing.

use std::collections::HashSet;
use std::time::Duration;

use blazz::jobs::Registry;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::numbers::connected_account;

/// An app whose sandbox answers quickly and does not ban for pacing.
async fn app() -> TestApp {
    TestApp::spawn_with(
        |c| {
            c.sandbox.delivered_after_ms = 20;
            c.sandbox.read_after_ms = 20;
            c.sandbox.enforce_pacing = false;
        },
        Registry::builtin(),
    )
    .await
}

pub fn phone(i: usize) -> String {
    format!("+628123{i:07}")
}

/// Imports `n` contacts (`Customer {i}`), tagged `tag`; the first
/// `opted_out` of them opted out.
pub async fn import(
    app: &TestApp,
    token: &str,
    from: usize,
    n: usize,
    tag: &str,
    opted_out: usize,
) {
    let mut csv = String::from("phone,name,opted_out\n");
    for i in from..from + n {
        let out = if i - from < opted_out {
            "true"
        } else {
            "false"
        };
        csv.push_str(&format!("{},Customer {i},{out}\n", phone(i)));
    }
    let (status, r) = app
        .post(
            token,
            "/api/v1/contacts/import",
            json!({"csv": csv, "tags": [tag]}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
}

/// Polls the campaign until `done` holds.
pub async fn wait_campaign(
    app: &TestApp,
    token: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..1_200 {
        let (status, v) = app.get(token, &format!("/api/v1/campaigns/{id}")).await;
        assert_eq!(status, 200, "{v}");
        if done(&v) {
            return v;
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("campaign {id} never got there: {last}");
}

async fn create(app: &TestApp, token: &str, body: Value) -> String {
    let (status, c) = app.post(token, "/api/v1/campaigns", body).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["status"], "draft");
    c["id"].as_str().unwrap().to_string()
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str) -> (u16, Value) {
    app.post(
        token,
        &format!("/api/v1/campaigns/{id}/{action}"),
        json!({}),
    )
    .await
}

/// What the sandbox network received from `account`.
fn received(app: &TestApp, account: &str) -> Vec<blazz_sandbox::ReceivedMessage> {
    let net = app.state().sessions.sandbox.as_ref().unwrap();
    net.received(account, 100_000).messages
}

fn text_of(m: &blazz_sandbox::ReceivedMessage) -> String {
    match &m.body {
        blazz_provider::MessageBody::Text { text } => text.clone(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn a_campaign_reaches_each_recipient_once_in_their_words_and_reports_it() {
    let app = app().await;
    let t = app.tenant("Toko Ana").await;
    let a = connected_account(&app, &t.token).await;
    let b = connected_account(&app, &t.token).await;
    import(&app, &t.token, 0, 40, "vip", 3).await;
    import(&app, &t.token, 100, 5, "walk-in", 0).await;

    let id = create(
        &app,
        &t.token,
        json!({"name": "Promo", "text": "Hi {{contact.name|there}}, 20% off today!",
               "numbers": [{"account_id": a, "weight": 3}, {"account_id": b, "weight": 1}],
               "audience": {"tags": ["VIP"]},
               "settings": {"pacing": "off", "typing": false}}),
    )
    .await;
    let (status, c) = act(&app, &t.token, &id, "start").await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["stats"]["total"], 40);
    assert_eq!(c["stats"]["skipped_by_reason"]["opted_out"], 3);

    let done = wait_campaign(&app, &t.token, &id, |c| c["status"] == "completed").await;
    assert_eq!(done["stats"]["sent"], 37, "{done}");
    assert_eq!(done["stats"]["failed"], 0);
    assert!(done["finished_at"].is_string());
    // Receipts keep arriving after completion.
    wait_campaign(&app, &t.token, &id, |c| c["stats"]["read"] == 37).await;

    // Each tagged, opted-in contact got exactly one message, in its name.
    let (from_a, from_b) = (received(&app, &a), received(&app, &b));
    let all: Vec<_> = from_a.iter().chain(&from_b).collect();
    assert_eq!(all.len(), 37);
    let to: HashSet<&str> = all.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to.len(), 37, "someone got two messages");
    for m in &all {
        let i: usize = m.to[7..].parse().unwrap();
        assert!((3..40).contains(&i), "{} is opted out or not tagged", m.to);
        assert_eq!(text_of(m), format!("Hi Customer {i}, 20% off today!"));
    }
    // Weighted 3:1 (exactly, with both numbers able to send throughout).
    assert!(
        from_a.len() > 2 * from_b.len(),
        "{} vs {}",
        from_a.len(),
        from_b.len()
    );
    assert_eq!(done["stats"]["by_number"][&a]["sent"], from_a.len());

    let (_, skipped) = app
        .get(
            &t.token,
            &format!("/api/v1/campaigns/{id}/recipients?status=skipped"),
        )
        .await;
    let skipped = skipped["data"].as_array().unwrap();
    assert_eq!(skipped.len(), 3);
    assert!(skipped.iter().all(|r| r["reason"] == "opted_out"));

    let csv = app
        .client
        .get(app.url(&format!("/api/v1/campaigns/{id}/recipients.csv")))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 41, "{csv}");
    assert_eq!(csv.lines().filter(|l| l.contains(",read,")).count(), 37);

    // Started once: again is a conflict, and planning did not run twice.
    assert_error(
        &act(&app, &t.token, &id, "start").await,
        409,
        "campaign_state",
    );
    let (_, audit) = app.get(&t.token, "/api/v1/audit?limit=200").await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in ["campaign.created", "campaign.started", "campaign.completed"] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    app.finish().await;
}

#[tokio::test]
async fn bad_campaigns_are_refused_and_only_admins_run_them() {
    let app = app().await;
    let t = app.tenant("Shop").await;
    let other = app.tenant("Other").await;
    let a = connected_account(&app, &t.token).await;
    let theirs = connected_account(&app, &other.token).await;
    let base = json!({"name": "x", "text": "hi", "account_ids": [a], "audience": {"all": true}});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, status, code) in [
        (with("account_ids", json!([])), 422, "invalid_numbers"),
        (
            with("account_ids", json!([theirs])),
            404,
            "account_not_found",
        ),
        (with("audience", json!({})), 422, "invalid_audience"),
        (with("text", json!("")), 422, "invalid_body"),
        (
            with("settings", json!({"time_zone": "Mars/Base"})),
            422,
            "invalid_time_zone",
        ),
        (
            with(
                "settings",
                json!({"window": {"start": "25:00", "end": "08:00"}}),
            ),
            422,
            "invalid_window",
        ),
        (
            with("start_at", json!("next tuesday")),
            422,
            "invalid_start_at",
        ),
        (
            with("message", json!({"type": "reaction", "emoji": "👍"})),
            422,
            "invalid_body",
        ),
        (
            with("message", json!({"type": "template", "template": "nope"})),
            404,
            "template_not_found",
        ),
    ] {
        let mut body = body;
        if body.get("message").is_some() {
            body.as_object_mut().unwrap().remove("text");
        }
        assert_error(
            &app.post(&t.token, "/api/v1/campaigns", body).await,
            status,
            code,
        );
    }

    let id = create(&app, &t.token, base.clone()).await;
    let agent = app.token(t.id, blazz_domain::Role::Agent).await;
    assert_error(
        &app.post(&agent, "/api/v1/campaigns", base.clone()).await,
        403,
        "forbidden",
    );
    assert_error(&act(&app, &agent, &id, "start").await, 403, "forbidden");
    let (status, _) = app.get(&agent, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(status, 200, "agents see campaigns");

    // Another workspace: not found, never listed.
    for path in ["", "/recipients", "/recipients.csv"] {
        let (status, _) = app
            .get(&other.token, &format!("/api/v1/campaigns/{id}{path}"))
            .await;
        assert_eq!(status, 404, "{path}");
    }
    for action in ["start", "pause", "resume", "cancel"] {
        assert_error(
            &act(&app, &other.token, &id, action).await,
            404,
            "campaign_not_found",
        );
    }
    assert_error(
        &app.delete(&other.token, &format!("/api/v1/campaigns/{id}"))
            .await,
        404,
        "campaign_not_found",
    );
    let (_, list) = app.get(&other.token, "/api/v1/campaigns").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    let (_, list) = app.get(&t.token, "/api/v1/campaigns").await;
    assert_eq!(list["data"][0]["id"], id.as_str());

    // A draft changes; a draft cannot pause or resume.
    let (status, c) = app
        .call(
            reqwest::Method::PUT,
            &t.token,
            &format!("/api/v1/campaigns/{id}"),
            Some(with("name", json!("Renamed"))),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["name"], "Renamed");
    assert_error(
        &act(&app, &t.token, &id, "pause").await,
        409,
        "campaign_state",
    );
    assert_error(
        &act(&app, &t.token, &id, "resume").await,
        409,
        "campaign_state",
    );
    let (status, _) = app
        .delete(&t.token, &format!("/api/v1/campaigns/{id}"))
        .await;
    assert_eq!(status, 204);
    app.finish().await;
}

#[tokio::test]
async fn paced_campaigns_pause_resume_and_cancel_without_sending_more() {
    let app = app().await;
    let t = app.tenant("Shop").await;
    let a = connected_account(&app, &t.token).await;
    import(&app, &t.token, 0, 30, "all", 0).await;
    // Default pacing: one message every 3-9 s from this number.
    let id = create(
        &app,
        &t.token,
        json!({"name": "Slow", "text": "hello", "account_ids": [a],
               "audience": {"tags": ["all"]}, "settings": {"typing": false}}),
    )
    .await;
    act(&app, &t.token, &id, "start").await;
    wait_campaign(&app, &t.token, &id, |c| c["stats"]["sent"] == 1).await;
    let (status, c) = act(&app, &t.token, &id, "pause").await;
    assert_eq!((status, c["status"].as_str()), (200, Some("paused")));
    let sent = received(&app, &a).len();
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(received(&app, &a).len(), sent, "a paused campaign sent");
    assert_error(
        &act(&app, &t.token, &id, "pause").await,
        409,
        "campaign_state",
    );

    let (status, c) = act(&app, &t.token, &id, "resume").await;
    assert_eq!((status, c["status"].as_str()), (200, Some("running")));
    wait_campaign(&app, &t.token, &id, |c| {
        c["stats"]["sent"].as_i64() > Some(sent as i64)
    })
    .await;
    let (status, c) = act(&app, &t.token, &id, "cancel").await;
    assert_eq!((status, c["status"].as_str()), (200, Some("cancelled")));
    let skipped = c["stats"]["skipped_by_reason"]["cancelled"]
        .as_i64()
        .unwrap();
    let sent = received(&app, &a).len() as i64;
    assert_eq!(sent + skipped, 30, "{c}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        received(&app, &a).len() as i64,
        sent,
        "a cancelled campaign sent"
    );
    app.finish().await;
}

#[tokio::test]
async fn replies_count_stop_opts_out_and_the_cooldown_skips_the_recently_messaged() {
    let app = app().await;
    let t = app.tenant("Shop").await;
    let a = connected_account(&app, &t.token).await;
    import(&app, &t.token, 0, 3, "list", 0).await;
    let body = json!({"name": "One", "text": "news", "account_ids": [a],
                      "audience": {"tags": ["list"]}, "settings": {"pacing": "off", "typing": false}});
    let first = create(&app, &t.token, body.clone()).await;
    act(&app, &t.token, &first, "start").await;
    wait_campaign(&app, &t.token, &first, |c| c["status"] == "completed").await;

    for (i, text) in [(0, "Thanks, see you!"), (1, "Berhenti.")] {
        let (status, r) = app
            .post(
                &t.token,
                &format!("/api/v1/sandbox/accounts/{a}/inbound"),
                json!({"from": phone(i), "text": text}),
            )
            .await;
        assert_eq!(status, 202, "{r}");
    }
    let c = wait_campaign(&app, &t.token, &first, |c| c["stats"]["replied"] == 2).await;
    assert!(c["stats"]["read"].as_i64().unwrap() >= 2, "{c}");
    // The reply is attributed to the campaign, as is the message it answers.
    let (_, found) = app.get(&t.token, "/api/v1/messages?q=Thanks").await;
    let reply = &found["data"][0];
    assert_eq!(reply["campaign_id"], first.as_str(), "{found}");
    assert_eq!(reply["direction"], "in");
    // The opt-out keyword opted the contact out.
    let (_, contacts) = app.get(&t.token, "/api/v1/contacts?opted_out=true").await;
    let out: Vec<&str> = contacts["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["phone"].as_str())
        .collect();
    assert_eq!(out, vec![phone(1).as_str()]);

    // Within the cooldown, a second campaign skips everyone it reached;
    // with no cooldown it still skips the opted-out.
    let second = create(&app, &t.token, body.clone()).await;
    let (_, c) = act(&app, &t.token, &second, "start").await;
    assert_eq!(
        c["stats"]["skipped_by_reason"]["recently_messaged"], 2,
        "{c}"
    );
    assert_eq!(c["stats"]["skipped_by_reason"]["opted_out"], 1, "{c}");
    let mut no_cooldown = body.clone();
    no_cooldown["settings"]["cooldown_hours"] = json!(0);
    let third = create(&app, &t.token, no_cooldown).await;
    let (_, c) = act(&app, &t.token, &third, "start").await;
    assert_eq!(c["stats"]["skipped"], 1, "{c}");
    wait_campaign(&app, &t.token, &third, |c| c["stats"]["sent"] == 2).await;
    app.finish().await;
}

#[tokio::test]
async fn a_number_whose_owner_chats_from_the_phone_holds_its_campaign_sends() {
    let app = app().await;
    let t = app.tenant("Shop").await;
    let a = connected_account(&app, &t.token).await;
    import(&app, &t.token, 0, 20, "all", 0).await;
    // Default pacing: a send every 3-9 s, so there is time to interrupt.
    let id = create(
        &app,
        &t.token,
        json!({"name": "Paced", "text": "hello", "account_ids": [a],
               "audience": {"tags": ["all"]}, "settings": {"typing": false}}),
    )
    .await;
    act(&app, &t.token, &id, "start").await;
    wait_campaign(&app, &t.token, &id, |c| c["stats"]["sent"] == 1).await;

    // The owner answers a customer from the phone itself.
    let (status, r) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{a}/phone-send"),
            json!({"to": "+14155550199", "text": "Saya balas dari HP"}),
        )
        .await;
    assert_eq!(status, 202, "{r}");
    let c = wait_campaign(&app, &t.token, &id, |c| {
        c["numbers"][0]["paused_reason"] == "owner_active"
    })
    .await;
    let sent = c["stats"]["sent"].as_i64().unwrap() + c["stats"]["sending"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let (_, later) = app.get(&t.token, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(
        later["stats"]["sent"].as_i64().unwrap() + later["stats"]["sending"].as_i64().unwrap(),
        sent,
        "the campaign kept sending while the owner chatted: {later}"
    );
    // The owner's message is in the inbox as an outbound one from the phone.
    let (_, chats) = app.get(&t.token, "/api/v1/chats?q=4155550199").await;
    let chat = chats["data"][0]["id"].as_str().unwrap().to_string();
    let (_, messages) = app
        .get(&t.token, &format!("/api/v1/chats/{chat}/messages"))
        .await;
    let m = &messages["data"][0];
    assert_eq!(
        (m["direction"].as_str(), m["source"].as_str()),
        (Some("out"), Some("phone")),
        "{m}"
    );
    act(&app, &t.token, &id, "cancel").await;
    app.finish().await;
}
