//! Meta message templates of a Cloud number against the fake Graph API:
//! sync (every page), create (stored pending), status updates by webhook,
//! delete, and template messages whose variables are checked against the
//! stored template before Meta is asked.

use blazz_cloud::fake::FakeGraph;
use serde_json::{json, Value};

use crate::cloud::{cloud_number, spawn, wait_message, CUSTOMER};
use crate::helpers::{assert_error, TestApp};

fn order_update(id: &str, language: &str) -> Value {
    json!({"id": id, "name": "order_update", "language": language, "status": "APPROVED",
        "category": "UTILITY", "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Hi {{1}}, order {{2}} is on its way"}]})
}

async fn synced(app: &TestApp, token: &str, fake: &FakeGraph, id: &str) -> Value {
    let waba = fake.credentials().business_account_id;
    fake.add_template(&waba, order_update("1001", "en_US"));
    fake.add_template(&waba, order_update("1002", "id"));
    fake.add_template(
        &waba,
        json!({"id": "1003", "name": "welcome", "language": "en_US", "status": "REJECTED",
            "category": "MARKETING", "components": [{"type": "BODY", "text": "Welcome!"}]}),
    );
    fake.set_page_size(1);
    let (status, list) = app
        .post(
            token,
            &format!("/api/v1/accounts/{id}/templates/sync"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list
}

#[tokio::test]
async fn sync_follows_every_page_and_lists_the_numbers_templates() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    let list = synced(&app, &t.token, &fake, &id).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3, "{list}");
    let (_, listed) = app
        .get(&t.token, &format!("/api/v1/templates?account_id={id}"))
        .await;
    let names: Vec<(String, String, String)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().into(),
                t["language"].as_str().unwrap().into(),
                t["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("order_update".into(), "en_US".into(), "APPROVED".into()),
            ("order_update".into(), "id".into(), "APPROVED".into()),
            ("welcome".into(), "en_US".into(), "REJECTED".into()),
        ]
    );
    assert_eq!(listed["data"][0]["variables"], json!(["1", "2"]));
    // Syncing again changes nothing (no duplicates).
    let again = synced(&app, &t.token, &fake, &id).await;
    assert_eq!(again["data"].as_array().unwrap().len(), 3);
    app.finish().await;
}

#[tokio::test]
async fn a_created_template_is_stored_pending_and_follows_metas_status_webhook() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    let (status, created) = app
        .post(
            &t.token,
            "/api/v1/templates",
            json!({"account_id": id, "name": "receipt_ready", "category": "UTILITY",
                "language": "en_US", "components": [{"type": "BODY", "text": "Your receipt {{1}} is ready",
                "example": {"body_text": [["R-1"]]}}]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "PENDING");
    let meta_id = created["meta_id"].as_str().unwrap().to_string();
    let waba = fake.credentials().business_account_id;
    assert!(fake
        .templates(&waba)
        .iter()
        .any(|t| t["name"] == "receipt_ready"));

    let bad = app
        .post(
            &t.token,
            "/api/v1/templates",
            json!({"account_id": id, "name": "Bad Name", "category": "UTILITY",
                "language": "en_US", "components": [{"type": "BODY", "text": "x"}]}),
        )
        .await;
    assert_error(&bad, 422, "invalid_template");

    let status = fake
        .deliver_template_status(&waba, &meta_id, "receipt_ready", "en_US", "APPROVED", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let tid = created["id"].as_str().unwrap();
    let mut last = Value::Null;
    for _ in 0..500 {
        let (_, t2) = app.get(&t.token, &format!("/api/v1/templates/{tid}")).await;
        if t2["status"] == "APPROVED" {
            last = t2;
            break;
        }
        last = t2;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(last["status"], "APPROVED", "{last}");
    fake.deliver_template_status(
        &waba,
        &meta_id,
        "receipt_ready",
        "en_US",
        "REJECTED",
        Some("INVALID_FORMAT"),
    )
    .await
    .unwrap();
    for _ in 0..500 {
        let (_, t2) = app.get(&t.token, &format!("/api/v1/templates/{tid}")).await;
        last = t2;
        if last["status"] == "REJECTED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(last["status"], "REJECTED");
    assert_eq!(last["reason"], "INVALID_FORMAT");

    let (status, _) = app
        .delete(&t.token, &format!("/api/v1/templates/{tid}"))
        .await;
    assert_eq!(status, 204);
    assert!(fake
        .deleted_templates()
        .iter()
        .any(|(_, name, hsm)| name == "receipt_ready" && hsm.as_deref() == Some(meta_id.as_str())));
    let (status, _) = app.get(&t.token, &format!("/api/v1/templates/{tid}")).await;
    assert_eq!(status, 404);
    app.finish().await;
}

#[tokio::test]
async fn template_variables_are_checked_before_meta_is_asked_and_templates_reach_outside_the_window(
) {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    synced(&app, &t.token, &fake, &id).await;
    let send = |body: Value| {
        let app = &app;
        let token = t.token.clone();
        let id = id.clone();
        async move {
            app.post(
                &token,
                "/api/v1/messages",
                json!({"account_id": id, "to": CUSTOMER, "body": body}),
            )
            .await
        }
    };
    let short = send(
        json!({"type": "template", "name": "order_update", "language": "en_US",
        "variables": ["Asha"]}),
    )
    .await;
    assert_error(&short, 422, "template_variables_mismatch");
    assert!(
        short.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("{{2}}"),
        "{short:?}"
    );
    let gap = send(
        json!({"type": "template", "name": "order_update", "language": "en_US",
        "variables": {"1": "Asha", "3": "A12"}}),
    )
    .await;
    assert_error(&gap, 422, "template_variables_mismatch");
    let rejected = send(json!({"type": "template", "name": "welcome", "language": "en_US"})).await;
    assert_error(&rejected, 422, "template_not_approved");
    let missing = send(json!({"type": "template", "name": "nope", "language": "en_US"})).await;
    assert_error(&missing, 404, "template_not_found");
    assert!(fake.sent().is_empty(), "Meta was asked anyway");

    // No message from the contact yet: a template still goes out.
    let (status, m) = send(
        json!({"type": "template", "name": "order_update", "language": "en_US",
        "variables": ["Asha", "A12"]}),
    )
    .await;
    assert_eq!(status, 202, "{m}");
    assert_eq!(m["body"]["text"], "Hi Asha, order A12 is on its way");
    wait_message(&app, &t.token, m["id"].as_str().unwrap(), "sent").await;
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    let tpl = &sent[0].body["template"];
    assert_eq!(tpl["name"], "order_update");
    assert_eq!(tpl["language"]["code"], "en_US");
    assert_eq!(
        tpl["components"][0]["parameters"],
        json!([{"type": "text", "text": "Asha"}, {"type": "text", "text": "A12"}])
    );
    app.finish().await;
}

#[tokio::test]
async fn meta_templates_are_for_cloud_numbers_only() {
    let (app, _fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let sandbox = crate::numbers::connected_account(&app, &t.token).await;
    let answer = app
        .post(
            &t.token,
            "/api/v1/messages",
            json!({"account_id": sandbox, "to": CUSTOMER, "body": {"type": "template",
                "name": "order_update", "language": "en_US", "variables": ["a", "b"]}}),
        )
        .await;
    assert_error(&answer, 422, "invalid_body");
    let sync = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{sandbox}/templates/sync"),
            json!({}),
        )
        .await;
    assert_error(&sync, 422, "not_a_cloud_number");
    app.finish().await;
}
