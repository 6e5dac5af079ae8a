//! Contacts through the API: E.164 normalisation, tags, custom fields,
//! opt-out, search and pagination.

use serde_json::json;

use crate::helpers::{assert_error, TestApp};

#[tokio::test]
async fn a_contact_is_stored_with_its_number_in_e164() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Contacts").await;
    let body = json!({"phone": "+1 (415) 555-2671", "name": " Asha ", "tags": ["VIP ", "vip", "Leads"],
                      "fields": {"city": "Lagos", "orders": 3, "member": true}, "notes": "prefers mornings"});
    let (status, c) = app.post(&t.token, "/api/v1/contacts", body).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["phone"], "+14155552671");
    assert_eq!(c["name"], "Asha");
    assert_eq!(c["tags"], json!(["leads", "vip"]));
    assert_eq!(c["fields"]["orders"], 3);
    assert_eq!(c["opted_out"], false);
    let id = c["id"].as_str().unwrap();
    let (status, got) = app.get(&t.token, &format!("/api/v1/contacts/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(got, c);
    // The same number written another way is the same contact.
    let again = app
        .post(
            &t.token,
            "/api/v1/contacts",
            json!({"phone": "001 415 555 2671"}),
        )
        .await;
    assert_error(&again, 409, "contact_exists");
    let events: Vec<(String,)> =
        sqlx::query_as("SELECT kind FROM outbox WHERE kind LIKE 'contact.%'")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(events, [("contact.created".to_string(),)]);
    app.finish().await;
}

#[tokio::test]
async fn garbage_numbers_and_fields_are_refused_with_clear_codes() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Garbage").await;
    for phone in ["hello", "", "+1 000 000 0000", "0207 946 0958"] {
        let answer = app
            .post(&t.token, "/api/v1/contacts", json!({"phone": phone}))
            .await;
        assert_error(&answer, 422, "invalid_phone");
    }
    assert_error(
        &app.post(&t.token, "/api/v1/contacts", json!({"name": "no phone"}))
            .await,
        422,
        "invalid_phone",
    );
    let bad_field = json!({"phone": "+14155552671", "fields": {"bad key!": 1}});
    assert_error(
        &app.post(&t.token, "/api/v1/contacts", bad_field).await,
        422,
        "invalid_fields",
    );
    let nested = json!({"phone": "+14155552671", "fields": {"x": {"deep": 1}}});
    assert_error(
        &app.post(&t.token, "/api/v1/contacts", nested).await,
        422,
        "invalid_fields",
    );
    let bad_tag = json!({"phone": "+14155552671", "tags": ["  "]});
    assert_error(
        &app.post(&t.token, "/api/v1/contacts", bad_tag).await,
        422,
        "invalid_tag",
    );
    let (_, list) = app.get(&t.token, "/api/v1/contacts").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "nothing was stored"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_default_country_reads_national_numbers() {
    let app = TestApp::spawn_with(
        |c| c.contacts.default_country = Some("GB".into()),
        blazz::jobs::Registry::builtin(),
    )
    .await;
    let t = app.tenant("UK").await;
    let (status, c) = app
        .post(
            &t.token,
            "/api/v1/contacts",
            json!({"phone": "020 7946 0958"}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["phone"], "+442079460958");
    app.finish().await;
}

#[tokio::test]
async fn patch_changes_only_what_it_names_and_null_clears() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Patch").await;
    let (_, c) = app
        .post(
            &t.token,
            "/api/v1/contacts",
            json!({"phone": "+14155552671", "name": "Bo", "notes": "n", "tags": ["a"]}),
        )
        .await;
    let id = c["id"].as_str().unwrap();
    let (status, p) = app
        .patch(
            &t.token,
            &format!("/api/v1/contacts/{id}"),
            json!({"opted_out": true}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        (p["name"].clone(), p["notes"].clone(), p["tags"].clone()),
        (json!("Bo"), json!("n"), json!(["a"]))
    );
    assert_eq!(p["opted_out"], true);
    assert!(p["opted_out_at"].is_string());
    let (_, p) = app
        .patch(
            &t.token,
            &format!("/api/v1/contacts/{id}"),
            json!({"name": null, "tags": []}),
        )
        .await;
    assert_eq!(p["name"], json!(null));
    assert_eq!(p["tags"], json!([]));
    assert_eq!(p["notes"], "n");
    let (status, _) = app
        .delete(&t.token, &format!("/api/v1/contacts/{id}"))
        .await;
    assert_eq!(status, 204);
    assert_error(
        &app.get(&t.token, &format!("/api/v1/contacts/{id}")).await,
        404,
        "contact_not_found",
    );
    app.finish().await;
}

#[tokio::test]
async fn contacts_are_found_by_name_phone_and_tag_page_by_page() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Search").await;
    for i in 0..7 {
        let tags = if i % 2 == 0 {
            json!(["even"])
        } else {
            json!([])
        };
        let body = json!({"phone": format!("+1415555{:04}", 2600 + i), "name": format!("Person {i}"), "tags": tags,
                          "opted_out": i == 6});
        assert_eq!(app.post(&t.token, "/api/v1/contacts", body).await.0, 201);
    }
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, by_name) = app.get(&t.token, "/api/v1/contacts?q=PERSON%203").await;
    assert_eq!(names(&by_name), ["Person 3"]);
    let (_, by_phone) = app.get(&t.token, "/api/v1/contacts?q=4155552605").await;
    assert_eq!(names(&by_phone), ["Person 5"]);
    let (_, by_tag) = app.get(&t.token, "/api/v1/contacts?tag=EVEN").await;
    assert_eq!(
        names(&by_tag),
        ["Person 6", "Person 4", "Person 2", "Person 0"]
    );
    let (_, out) = app.get(&t.token, "/api/v1/contacts?opted_out=true").await;
    assert_eq!(names(&out), ["Person 6"]);
    let (_, wild) = app.get(&t.token, "/api/v1/contacts?q=%25").await;
    assert_eq!(names(&wild).len(), 0, "% is a character, not a wildcard");

    let mut seen = Vec::new();
    let mut path = "/api/v1/contacts?limit=3".to_string();
    loop {
        let (status, page) = app.get(&t.token, &path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/contacts?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..7)
            .rev()
            .map(|i| format!("Person {i}"))
            .collect::<Vec<_>>()
    );
    assert_error(
        &app.get(&t.token, "/api/v1/contacts?cursor=nope").await,
        422,
        "invalid_cursor",
    );
    app.finish().await;
}
