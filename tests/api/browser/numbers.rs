//! First-run setup, a sandbox number linked by QR code through the sandbox
//! phone with the page following live, and another workspace that sees
//! none of it.

use serde_json::json;

use super::{owner_token, Browser};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_number_links_live_in_the_browser_and_stays_in_its_workspace() {
    let app = TestApp::spawn().await;
    let b = Browser::launch(&app.base).await;

    // First run: the visitor is sent to setup and becomes the owner.
    b.goto("/").await;
    assert_eq!(b.path().await, "/setup");
    b.screenshot("setup").await;
    b.set_up("Ana Owner", "ana@example.com", "Ana Shop").await;
    b.screenshot("home").await;

    // No numbers yet: the page says what to do.
    b.click("a[href='/numbers']").await;
    let empty = b.wait_for("[data-testid=empty]").await;
    assert!(empty.contains("Sandbox"), "{empty}");
    b.screenshot("numbers-empty").await;

    // Add a sandbox number: its page shows a QR code, live.
    b.fill("#number-name", "Support line").await;
    b.press("Add and link").await;
    b.wait_for(".qr svg").await;
    let number_path = b.path().await;
    assert!(number_path.starts_with("/numbers/"), "{number_path}");
    b.wait_for("[data-live-state=live]").await;
    b.screenshot("number-qr").await;

    // The sandbox phone approves; the page turns "connected" by itself.
    b.mark().await;
    b.press("Approve on the sandbox phone").await;
    let connected = b.wait_for("[data-testid=connected]").await;
    assert!(connected.starts_with("Connected"), "{connected}");
    b.wait_text("[data-status-for]", "Connected").await;
    assert!(b.marked().await, "the page reloaded instead of updating");
    assert_eq!(b.path().await, number_path);

    // A customer writes through the sandbox phone.
    b.press("Send as the customer").await;
    b.wait_text("form[action$='/phone/inbound'] [data-async-result]", "Sent")
        .await;
    b.screenshot("number-connected").await;

    // The list shows the status, and follows it live.
    b.goto("/numbers").await;
    b.wait_text("tbody", "Support line").await;
    b.wait_text("[data-status-for]", "Connected").await;
    b.wait_for("[data-live-state=live]").await;
    b.mark().await;
    let token = owner_token(&app).await;
    let id = number_path.trim_start_matches("/numbers/");
    let (status, body) = app
        .post(
            &token,
            &format!("/api/v1/sandbox/accounts/{id}/logout"),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    b.wait_text("[data-status-for]", "Not linked").await;
    assert!(b.marked().await, "the list reloaded instead of updating");
    b.screenshot("numbers-list").await;

    // Someone of another workspace finds nothing of Ana's.
    let other = app.tenant("Other Shop").await;
    b.sign_out().await;
    b.sign_in(&other.owner_email, "Other Shop").await;
    b.goto("/numbers").await;
    b.wait_for("[data-testid=empty]").await;
    assert!(!b.body().await.contains("Support line"));
    b.goto(&number_path).await;
    b.wait_text("main h1", "Not found").await;
    assert!(!b.body().await.contains("Support line"));
    b.screenshot("other-workspace").await;

    b.close().await;
    app.finish().await;
}
