//! Account groups: a sandbox number as primary and a Cloud API number as
//! fallback. Sends to the group go from the primary while it is connected,
//! from the fallback while it is not, and from the primary again once it
//! is back; each message says which number sent it.

use serde_json::json;

use crate::cloud::{cloud_number, customer_writes, spawn, wait_message, CUSTOMER};
use crate::helpers::assert_error;
use crate::numbers::{connected_account, wait_status};

#[tokio::test]
async fn a_group_fails_over_from_a_dropped_primary_to_the_cloud_number_and_back() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let primary = connected_account(&app, &t.token).await;
    let cloud = cloud_number(&app, &t.token, &fake).await;
    // The customer wrote to the Cloud number: its 24-hour window is open.
    customer_writes(&app, &fake, "hello").await;
    let (status, g) = app
        .post(
            &t.token,
            "/api/v1/account-groups",
            json!({"name": "Support", "primary_account_id": primary, "fallback_account_id": cloud}),
        )
        .await;
    assert_eq!(status, 201, "{g}");
    let group = g["id"].as_str().unwrap().to_string();
    let same = app
        .post(
            &t.token,
            "/api/v1/account-groups",
            json!({"name": "Twice", "primary_account_id": cloud, "fallback_account_id": cloud}),
        )
        .await;
    assert_error(&same, 422, "invalid_account_group");

    let send = |text: &'static str| {
        let app = &app;
        let token = t.token.clone();
        let group = group.clone();
        async move {
            let (status, m) = app
                .post(
                    &token,
                    "/api/v1/messages",
                    json!({"account_group_id": group, "to": CUSTOMER, "text": text}),
                )
                .await;
            assert_eq!(status, 202, "{m}");
            wait_message(app, &token, m["id"].as_str().unwrap(), "sent").await
        }
    };
    let route = |id: String| {
        let app = &app;
        async move {
            let (account, provider): (String, String) = sqlx::query_as(
                "SELECT account_id, provider FROM message_routes WHERE message_id = $1",
            )
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            (account, provider)
        }
    };

    let first = send("from the primary").await;
    assert_eq!(first["account_id"], primary.as_str());
    assert_eq!(
        route(first["id"].as_str().unwrap().into()).await,
        (primary.clone(), "sandbox".into())
    );
    assert!(fake.sent().is_empty());

    // The primary's network goes down: the group sends from the Cloud number.
    let (status, _) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{primary}/outage"),
            json!({"down": true}),
        )
        .await;
    assert_eq!(status, 204);
    wait_status(&app, &t.token, &primary, "reconnecting").await;
    let second = send("from the fallback").await;
    assert_eq!(second["account_id"], cloud.as_str());
    assert_eq!(
        route(second["id"].as_str().unwrap().into()).await,
        (cloud.clone(), "cloud".into())
    );
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["text"]["body"], "from the fallback");

    // It comes back: the group sends from the primary again.
    app.post(
        &t.token,
        &format!("/api/v1/sandbox/accounts/{primary}/outage"),
        json!({"down": false}),
    )
    .await;
    wait_status(&app, &t.token, &primary, "connected").await;
    let third = send("from the primary again").await;
    assert_eq!(third["account_id"], primary.as_str());
    assert_eq!(fake.sent().len(), 1);
    app.finish().await;
}
