//! Cloud API numbers in the browser: adding one with its Meta credentials
//! (against the fake Graph API), its Cloud card and "test connection", a
//! refused token reported in Meta's words, and the templates page synced
//! from Meta.

use serde_json::json;

use super::Browser;
use crate::cloud::spawn;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_number_is_added_tested_and_its_templates_synced_in_the_browser() {
    let (app, fake) = spawn().await;
    let creds = fake.credentials();
    fake.add_template(
        &creds.business_account_id,
        json!({"id": "77", "name": "order_update", "language": "en_US", "status": "APPROVED",
            "category": "UTILITY", "components": [{"type": "BODY", "text": "Hi {{1}}"}]}),
    );
    let b = Browser::launch(&app.base).await;
    b.set_up("Ana Owner", "ana@example.com", "Ana Shop").await;

    b.goto("/numbers").await;
    b.wait_for("#cloud-form").await;
    b.fill("#cloud-name", "Meta line").await;
    b.fill("#cloud-phone_number_id", &creds.phone_number_id)
        .await;
    b.fill("#cloud-business_account_id", &creds.business_account_id)
        .await;
    b.fill("#cloud-access_token", &creds.access_token).await;
    b.fill("#cloud-app_secret", &creds.app_secret).await;
    b.fill("#cloud-verify_token", &creds.verify_token).await;
    b.press("Add the Cloud API number").await;
    b.wait_text("main h1", "Meta line").await;
    b.wait_for("#cloud-card").await;
    b.wait_for("[data-testid=connected]").await;
    let page = b.body().await;
    assert!(page.contains(&creds.phone_number_id), "{page}");
    assert!(!page.contains(&creds.access_token) && !page.contains(&creds.app_secret));
    b.screenshot("cloud-number").await;

    b.press("Test connection").await;
    b.wait_text("[data-testid=test-ok]", "the token works")
        .await;

    // Meta stops taking the token: the test says so, in Meta's words too.
    fake.set_access_token(&creds.phone_number_id, "a-newer-token");
    b.press("Test connection").await;
    b.wait_text(
        "[data-testid=test-problem]",
        "Meta refused the access token",
    )
    .await;
    assert!(b.body().await.contains("Invalid OAuth access token"));

    b.click("#cloud-card a").await;
    b.wait_for("[data-testid=no-templates]").await;
    fake.set_access_token(&creds.phone_number_id, &creds.access_token);
    b.press("Sync from Meta").await;
    b.wait_text("[data-testid=templates]", "order_update").await;
    b.screenshot("cloud-templates").await;

    b.close().await;
    app.finish().await;
}
