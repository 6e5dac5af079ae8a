//! Canned replies: shared snippets with variables filled per contact.

use serde_json::json;

use crate::helpers::{assert_error, TestApp};

#[tokio::test]
async fn a_canned_reply_fills_its_variables_for_a_contact() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Canned").await;
    let body = json!({"shortcut": "/Hello", "body": "Hi {{contact.name|there}}, your order ships to {{contact.fields.city|you}}."});
    let (status, r) = app.post(&t.token, "/api/v1/canned-replies", body).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["shortcut"], "hello");
    assert_eq!(
        r["variables"],
        json!(["contact.name", "contact.fields.city"])
    );
    let id = r["id"].as_str().unwrap();

    let (_, named) = app
        .post(
            &t.token,
            "/api/v1/contacts",
            json!({"phone": "+14155552671", "name": "Asha", "fields": {"city": "Lagos"}}),
        )
        .await;
    let (_, anonymous) = app
        .post(
            &t.token,
            "/api/v1/contacts",
            json!({"phone": "+14155552672"}),
        )
        .await;
    let render = |c: &serde_json::Value| json!({"contact_id": c["id"]});
    let (status, out) = app
        .post(
            &t.token,
            &format!("/api/v1/canned-replies/{id}/render"),
            render(&named),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["text"], "Hi Asha, your order ships to Lagos.");
    let (_, out) = app
        .post(
            &t.token,
            &format!("/api/v1/canned-replies/{id}/render"),
            render(&anonymous),
        )
        .await;
    assert_eq!(out["text"], "Hi there, your order ships to you.");
    let missing = json!({"contact_id": blazz_domain::ContactId::new().to_string()});
    assert_error(
        &app.post(
            &t.token,
            &format!("/api/v1/canned-replies/{id}/render"),
            missing,
        )
        .await,
        404,
        "contact_not_found",
    );
    app.finish().await;
}

#[tokio::test]
async fn shortcuts_are_unique_searchable_and_admins_manage_them() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Shortcuts").await;
    for sc in ["thanks", "thanks-long", "hours"] {
        let (status, _) = app
            .post(
                &t.token,
                "/api/v1/canned-replies",
                json!({"shortcut": sc, "body": format!("{sc} text")}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let dup = app
        .post(
            &t.token,
            "/api/v1/canned-replies",
            json!({"shortcut": "THANKS", "body": "x"}),
        )
        .await;
    assert_error(&dup, 409, "shortcut_taken");
    assert_error(
        &app.post(
            &t.token,
            "/api/v1/canned-replies",
            json!({"shortcut": "no spaces", "body": "x"}),
        )
        .await,
        422,
        "invalid_shortcut",
    );
    assert_error(
        &app.post(
            &t.token,
            "/api/v1/canned-replies",
            json!({"shortcut": "empty", "body": "  "}),
        )
        .await,
        422,
        "invalid_body",
    );

    let (_, found) = app
        .get(&t.token, "/api/v1/canned-replies?prefix=/tha")
        .await;
    let shortcuts: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["shortcut"].as_str().unwrap())
        .collect();
    assert_eq!(shortcuts, ["thanks", "thanks-long"]);

    let agent = app.token(t.id, blazz_domain::Role::Agent).await;
    let (status, list) = app.get(&agent, "/api/v1/canned-replies").await;
    assert_eq!(status, 200);
    let id = list["data"][0]["id"].as_str().unwrap().to_string();
    assert_error(
        &app.post(
            &agent,
            "/api/v1/canned-replies",
            json!({"shortcut": "x", "body": "y"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &app.patch(
            &agent,
            &format!("/api/v1/canned-replies/{id}"),
            json!({"body": "y"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &app.delete(&agent, &format!("/api/v1/canned-replies/{id}"))
            .await,
        403,
        "forbidden",
    );

    let (status, r) = app
        .patch(
            &t.token,
            &format!("/api/v1/canned-replies/{id}"),
            json!({"body": "We open at 9."}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["body"], "We open at 9.");
    assert_eq!(
        app.delete(&t.token, &format!("/api/v1/canned-replies/{id}"))
            .await
            .0,
        204
    );
    assert_error(
        &app.get(&t.token, &format!("/api/v1/canned-replies/{id}"))
            .await,
        404,
        "canned_reply_not_found",
    );
    app.finish().await;
}
