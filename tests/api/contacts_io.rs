//! Contacts in and out as CSV: column mapping, per-row errors, dry runs,
//! idempotent re-import, export.

use serde_json::json;

use crate::helpers::{assert_error, TestApp};

const FILE: &str = "Mobile,Full name,Groups,City,Opt out\n\
+1 415 555 2671,Asha,vip;leads,Lagos,no\n\
not a number,Bo,,Accra,no\n\
+1 415 555 2672,Chidi,leads,,yes\n\
+1 415 555 2673,Dayo,,Abuja,maybe\n";

fn body(dry_run: bool) -> serde_json::Value {
    json!({
        "csv": FILE,
        "mapping": {"phone": "Mobile", "name": "full name", "tags": "Groups", "opted_out": "Opt out",
                    "fields": {"city": "City"}},
        "tags": ["Imported"],
        "dry_run": dry_run,
    })
}

#[tokio::test]
async fn an_import_maps_columns_reports_bad_rows_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Import").await;

    let (status, dry) = app
        .post(&t.token, "/api/v1/contacts/import", body(true))
        .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        (
            dry["rows"].clone(),
            dry["created"].clone(),
            dry["failed"].clone()
        ),
        (json!(4), json!(2), json!(2))
    );
    let lines: Vec<(u64, &str)> = dry["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [(3, "invalid_phone"), (5, "invalid_opted_out")]);
    let (_, none) = app.get(&t.token, "/api/v1/contacts").await;
    assert_eq!(
        none["data"].as_array().unwrap().len(),
        0,
        "a dry run changes nothing"
    );

    let (_, first) = app
        .post(&t.token, "/api/v1/contacts/import", body(false))
        .await;
    assert_eq!(
        (
            first["created"].clone(),
            first["updated"].clone(),
            first["unchanged"].clone()
        ),
        (json!(2), json!(0), json!(0))
    );
    let (_, asha) = app.get(&t.token, "/api/v1/contacts?q=asha").await;
    let asha = &asha["data"][0];
    assert_eq!(asha["phone"], "+14155552671");
    assert_eq!(asha["tags"], json!(["imported", "leads", "vip"]));
    assert_eq!(asha["fields"]["city"], "Lagos");
    let (_, out) = app.get(&t.token, "/api/v1/contacts?opted_out=true").await;
    assert_eq!(out["data"][0]["name"], "Chidi");

    let (_, again) = app
        .post(&t.token, "/api/v1/contacts/import", body(false))
        .await;
    assert_eq!(
        (
            again["created"].clone(),
            again["updated"].clone(),
            again["unchanged"].clone()
        ),
        (json!(0), json!(0), json!(2))
    );
    let (_, all) = app.get(&t.token, "/api/v1/contacts").await;
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        2,
        "no duplicates after a re-import"
    );
    app.finish().await;
}

#[tokio::test]
async fn an_import_without_a_phone_column_is_refused_whole() {
    let app = TestApp::spawn().await;
    let t = app.tenant("NoPhone").await;
    let answer = app
        .post(
            &t.token,
            "/api/v1/contacts/import",
            json!({"csv": "name\nAsha\n"}),
        )
        .await;
    assert_error(&answer, 422, "unknown_column");
    let answer = app
        .post(
            &t.token,
            "/api/v1/contacts/import",
            json!({"csv": "phone\n+14155552671\n", "mapping": {"name": "Nope"}}),
        )
        .await;
    assert_error(&answer, 422, "unknown_column");
    app.finish().await;
}

#[tokio::test]
async fn an_export_reads_back_as_the_same_contacts() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Export").await;
    app.post(&t.token, "/api/v1/contacts/import", body(false))
        .await;
    let resp = app
        .client
        .get(app.url("/api/v1/contacts/export"))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("phone,name,tags,notes,opted_out,city"));
    assert_eq!(lines.clone().count(), 2, "{csv}");
    assert!(
        csv.contains("+14155552671,Asha,imported;leads;vip,,false,Lagos"),
        "{csv}"
    );

    // Imported into another workspace, the export gives the same contacts.
    let other = app.tenant("Elsewhere").await;
    let (_, report) = app
        .post(&other.token, "/api/v1/contacts/import", json!({"csv": csv}))
        .await;
    assert_eq!(report["created"], 2, "{report}");
    let (_, moved) = app.get(&other.token, "/api/v1/contacts?q=asha").await;
    assert_eq!(
        moved["data"][0]["tags"],
        json!(["imported", "leads", "vip"])
    );
    app.finish().await;
}

#[tokio::test]
async fn a_large_import_goes_through_in_one_request() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Large").await;
    let mut csv = String::from("phone,name\n");
    for i in 0..20_000 {
        csv.push_str(&format!(
            "+1{}555{:04},A long-standing customer known as Person number {i}\n",
            212 + i / 10_000,
            i % 10_000
        ));
    }
    // Bigger than the API's usual 1 MiB body limit: imports take up to 64 MiB.
    assert!(csv.len() > 1024 * 1024);
    let (status, report) = app
        .post(&t.token, "/api/v1/contacts/import", json!({"csv": csv}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 20_000, "{}", report["errors"]);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM contacts")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 20_000);
    app.finish().await;
}
