//! Campaigns in a real browser: first-run setup, the empty list that sends
//! to the numbers page, a sandbox number linked through the sandbox phone,
//! contacts imported, a campaign made in the form (tags, pacing off, typing
//! off) with its preview, started from its page, whose statistics reach
//! "sent" for everyone without a reload, its recipients, the list following
//! a campaign started through the API, the page at phone width, and an
//! agent of another workspace who finds none of it.

use blazz::jobs::Registry;
use serde_json::json;

use super::{owner_token, Browser};
use crate::campaigns::{import, phone};
use crate::helpers::TestApp;
use crate::web_client::invite;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_made_in_the_browser_reports_its_progress_live() {
    let app = TestApp::spawn_with(
        |c| {
            c.sandbox.delivered_after_ms = 20;
            c.sandbox.read_after_ms = 20;
            c.sandbox.enforce_pacing = false;
        },
        Registry::builtin(),
    )
    .await;
    let b = Browser::launch(&app.base).await;

    // First run: the owner sets Blazz up.
    b.set_up("Ana Owner", "ana@example.com", "Ana Shop").await;

    // No campaigns and no numbers: the page says to link one first.
    b.click("header a[href='/campaigns']").await;
    let empty = b.wait_for("[data-testid=campaigns-empty]").await;
    assert!(empty.contains("link one first"), "{empty}");
    b.wait_for("[data-testid=campaigns-empty] a[href='/numbers']")
        .await;

    // A sandbox number, linked through the sandbox phone.
    b.link_sandbox_number("Promo line").await;
    let token = owner_token(&app).await;
    import(&app, &token, 0, 5, "vip", 0).await;
    import(&app, &token, 100, 2, "walk-in", 0).await;

    // The form: tags, pacing off, typing off, and a preview first.
    b.goto("/campaigns").await;
    b.click("a[href='/campaigns/new']").await;
    b.wait_for("#campaign-name").await;
    b.fill("#campaign-name", "Promo Lebaran").await;
    b.fill(
        "#campaign-text",
        "Hi {{contact.name|there}}, 20% off today!",
    )
    .await;
    b.click("#aud-tags").await;
    b.fill("#campaign-tags", "vip").await;
    b.click("#pacing-off").await;
    b.click("#campaign-typing").await;
    b.fill("#campaign-cooldown", "0").await;
    b.press("Preview").await;
    let preview = b.wait_for("[data-testid=preview]").await;
    assert!(preview.contains("20% off today!"), "{preview}");
    assert!(preview.contains("Hi Customer"), "{preview}");
    // The preview kept everything entered.
    assert_eq!(b.value("#campaign-name").await, "Promo Lebaran");
    assert_eq!(b.value("#campaign-tags").await, "vip");
    b.scroll_to("#pacing-off").await;
    b.screenshot("campaign-new").await;
    b.press("Save draft").await;
    b.wait_text("[data-testid=campaign-status]", "Draft").await;
    let path = b.path().await;
    let id = path.trim_start_matches("/campaigns/").to_string();
    let (_, c) = app.get(&token, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(c["settings"]["pacing"], "off", "{c}");
    assert_eq!(c["settings"]["typing"], false, "{c}");
    assert_eq!(c["audience"]["tags"], json!(["vip"]), "{c}");

    // Started from its page: the statistics follow without a reload.
    b.wait_for("[data-live-state=live]").await;
    b.mark().await;
    b.press("Start").await;
    b.wait_text("[data-stat=total] dd", "5").await;
    b.wait_text("[data-stat=sent] dd", "5").await;
    b.wait_text("[data-testid=campaign-status]", "Completed")
        .await;
    b.wait_text("[data-stat=read] dd", "5").await;
    assert!(b.marked().await, "the page reloaded instead of updating");
    let region = b.wait_for("#campaign-live").await;
    assert!(region.contains("Delete campaign"), "{region}");
    assert!(
        !region.contains("Pause"),
        "a finished campaign cannot pause: {region}"
    );
    b.scroll_to("[data-stat=sent]").await;
    b.screenshot("campaign-completed").await;

    // Its recipients: the five tagged contacts, none of the others.
    b.goto(&path).await;
    let table = b.wait_for("[data-testid=recipients]").await;
    for i in 0..5 {
        assert!(table.contains(&phone(i)), "{table}");
    }
    assert!(!table.contains(&phone(100)), "{table}");
    b.select("#recipient-status", "failed").await;
    b.press("Show").await;
    b.wait_for("[data-testid=recipients-empty]").await;

    // The list, on a desktop and at phone width.
    b.goto("/campaigns").await;
    b.wait_text("#campaign-rows", "Promo Lebaran").await;
    b.wait_text("#campaign-rows", "5 of 5 sent").await;

    // The open list follows a campaign started elsewhere (the API).
    b.wait_for("[data-live-state=live]").await;
    b.mark().await;
    let account = c["numbers"][0]["account_id"].as_str().unwrap().to_string();
    let (status, walk_in) = app
        .post(
            &token,
            "/api/v1/campaigns",
            json!({"name": "Walk-in thanks", "text": "Thanks for visiting!",
                   "account_ids": [account], "audience": {"tags": ["walk-in"]},
                   "settings": {"pacing": "off", "typing": false}}),
        )
        .await;
    assert_eq!(status, 201, "{walk_in}");
    let walk_in = walk_in["id"].as_str().unwrap();
    let (status, started) = app
        .post(
            &token,
            &format!("/api/v1/campaigns/{walk_in}/start"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    b.wait_text("#campaign-rows", "Walk-in thanks").await;
    b.wait_text("#campaign-rows", "2 of 2 sent").await;
    assert!(b.marked().await, "the list reloaded instead of updating");
    b.screenshot("campaigns-list").await;
    b.resize(390, 844).await;
    b.goto(&path).await;
    b.wait_for("[data-stat=sent]").await;
    b.screenshot("campaign-phone").await;
    b.resize(1200, 1000).await;

    // An agent of another workspace finds none of it.
    let other = app.tenant("Other Shop").await;
    let invitation = invite(&app, &other.token, "sari@example.com", "agent").await;
    b.sign_out().await;
    b.join(&invitation, "Sari Agent", "Other Shop").await;
    b.goto("/campaigns").await;
    let empty = b.wait_for("[data-testid=campaigns-empty]").await;
    assert!(
        empty.contains("Admins and owners create campaigns"),
        "{empty}"
    );
    let body = b.body().await;
    assert!(
        !body.contains("Promo Lebaran") && !body.contains("Walk-in"),
        "{body}"
    );
    b.goto(&path).await;
    b.wait_text("main h1", "Not found").await;
    assert!(!b.body().await.contains("Promo Lebaran"));
    b.goto(&format!("{path}/stats")).await;
    b.wait_text("main h1", "Not found").await;
    b.close().await;
    app.finish().await;
}
