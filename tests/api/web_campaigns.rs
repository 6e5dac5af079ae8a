//! The campaigns pages over HTTP, as a signed-in browser posts them:
//! another workspace's campaign is "not found" on every page and action
//! and never listed; forms need the session's token; agents see campaigns
//! but no admin buttons and are refused the actions; a refused form comes
//! back with the reason and what was entered; the preview renders the
//! message for a contact; a campaign made in the form runs, and its CSV
//! downloads with the session.

use blazz::jobs::Registry;
use serde_json::json;

use crate::campaigns::{import, phone, wait_campaign};
use crate::helpers::TestApp;
use crate::numbers::connected_account;
use crate::web_client::{join, Web};

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

/// A draft made through the API; returns its id.
async fn api_draft(app: &TestApp, token: &str, account: &str, name: &str) -> String {
    let (status, c) = app
        .post(
            token,
            "/api/v1/campaigns",
            json!({"name": name, "text": "Hello {{contact.name|there}}",
                   "account_ids": [account], "audience": {"all": true},
                   "settings": {"pacing": "off", "typing": false}}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    c["id"].as_str().unwrap().to_string()
}

async fn status_of(app: &TestApp, token: &str, id: &str) -> String {
    let (status, c) = app.get(token, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(status, 200, "{c}");
    c["status"].as_str().unwrap().to_string()
}

async fn campaign_count(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM campaigns")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn another_workspaces_campaign_is_not_found_on_every_page_and_action() {
    let app = app().await;
    let mine = app.tenant("Mine").await;
    let theirs = app.tenant("Theirs").await;
    let their_number = connected_account(&app, &theirs.token).await;
    let their_id = api_draft(&app, &theirs.token, &their_number, "Zed Secret Sale").await;
    let my_number = connected_account(&app, &mine.token).await;
    let my_id = api_draft(&app, &mine.token, &my_number, "Ana Own Sale").await;

    let web = Web::signed_in(&app, &mine.owner_email).await;
    let list = web.get("/campaigns").await;
    list.assert_status(200);
    assert!(list.body.contains("Ana Own Sale"), "{}", list.body);
    assert!(!list.body.contains("Zed Secret"), "{}", list.body);
    assert!(!list.body.contains(&their_id));
    let csrf = list.csrf();

    for path in ["", "/stats", "/edit"] {
        let page = web.get(&format!("/campaigns/{their_id}{path}")).await;
        page.assert_status(404);
        assert!(!page.body.contains("Zed Secret"), "{}", page.body);
    }
    for action in ["start", "pause", "resume", "cancel", "delete", "edit"] {
        let page = web
            .post(
                &format!("/campaigns/{their_id}/{action}"),
                &[("csrf", &csrf), ("name", "Taken"), ("text", "x")],
            )
            .await;
        page.assert_status(404);
        assert!(!page.body.contains("Zed Secret"), "{}", page.body);
    }
    // An id that names nothing reads the same.
    web.get("/campaigns/not-a-campaign")
        .await
        .assert_status(404);
    web.get("/campaigns/0190a7c0-0000-7000-8000-000000000001")
        .await
        .assert_status(404);
    // Their campaign is untouched, and their CSV is not ours to read.
    assert_eq!(status_of(&app, &theirs.token, &their_id).await, "draft");
    let (_, c) = app
        .get(&theirs.token, &format!("/api/v1/campaigns/{their_id}"))
        .await;
    assert_eq!(c["name"], "Zed Secret Sale");
    let csv = web
        .get(&format!("/api/v1/campaigns/{their_id}/recipients.csv"))
        .await;
    csv.assert_status(404);

    // Our own campaign opens, with its live region on its own channel.
    let page = web.get(&format!("/campaigns/{my_id}")).await;
    page.assert_status(200);
    assert!(page.body.contains(&format!("private-campaign.{my_id}")));
    assert!(!page.body.contains(&their_id));
    app.finish().await;
}

#[tokio::test]
async fn forms_without_the_session_token_change_nothing() {
    let app = app().await;
    let t = app.tenant("Toko Ana").await;
    let number = connected_account(&app, &t.token).await;
    let id = api_draft(&app, &t.token, &number, "Promo").await;
    let web = Web::signed_in(&app, &t.owner_email).await;

    let page = web
        .post(&format!("/campaigns/{id}/start"), &[("csrf", "forged")])
        .await;
    page.assert_status(403);
    assert!(page.body.contains("The form expired"), "{}", page.body);
    assert_eq!(status_of(&app, &t.token, &id).await, "draft");

    let page = web.post(&format!("/campaigns/{id}/delete"), &[]).await;
    page.assert_status(403);
    assert_eq!(status_of(&app, &t.token, &id).await, "draft");

    let before = campaign_count(&app).await;
    let page = web
        .post(
            "/campaigns",
            &[
                ("csrf", "forged"),
                ("name", "Sneaky"),
                ("text", "Hi"),
                ("audience", "all"),
                ("account", &number),
            ],
        )
        .await;
    page.assert_status(403);
    let page = web
        .post(
            &format!("/campaigns/{id}/edit"),
            &[("name", "Renamed"), ("text", "Hi"), ("account", &number)],
        )
        .await;
    page.assert_status(403);
    assert_eq!(campaign_count(&app).await, before);
    let (_, c) = app.get(&t.token, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(c["name"], "Promo");
    app.finish().await;
}

#[tokio::test]
async fn agents_see_campaigns_but_no_admin_buttons_and_are_refused_the_actions() {
    let app = app().await;
    let t = app.tenant("Toko Ana").await;
    let number = connected_account(&app, &t.token).await;
    let id = api_draft(&app, &t.token, &number, "Promo Lebaran").await;
    let agent = join(&app, &t.token, "bo@example.com", "agent").await;

    let list = agent.get("/campaigns").await;
    list.assert_status(200);
    assert!(list.body.contains("Promo Lebaran"), "{}", list.body);
    assert!(
        !list.body.contains("href=\"/campaigns/new\""),
        "{}",
        list.body
    );
    let page = agent.get(&format!("/campaigns/{id}")).await;
    page.assert_status(200);
    for action in ["start", "cancel", "delete", "edit"] {
        assert!(
            !page.body.contains(&format!("/campaigns/{id}/{action}")),
            "an agent is offered {action}: {}",
            page.body
        );
    }
    assert!(page.body.contains("recipients.csv"));
    agent.get("/campaigns/new").await.assert_status(403);
    agent
        .get(&format!("/campaigns/{id}/edit"))
        .await
        .assert_status(403);

    let csrf = list.csrf();
    for action in ["start", "cancel", "delete"] {
        let page = agent
            .post(&format!("/campaigns/{id}/{action}"), &[("csrf", &csrf)])
            .await;
        page.assert_status(403);
        assert!(
            page.body.contains("Only admins and owners"),
            "{}",
            page.body
        );
    }
    let before = campaign_count(&app).await;
    let page = agent
        .post(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("name", "Agent's own"),
                ("text", "Hi"),
                ("audience", "all"),
                ("account", &number),
            ],
        )
        .await;
    page.assert_status(403);
    assert_eq!(campaign_count(&app).await, before);
    assert_eq!(status_of(&app, &t.token, &id).await, "draft");

    // The owner sees the buttons the draft allows.
    let owner = Web::signed_in(&app, &t.owner_email).await;
    let page = owner.get(&format!("/campaigns/{id}")).await;
    for action in ["start", "cancel", "delete", "edit"] {
        assert!(page.body.contains(&format!("/campaigns/{id}/{action}")));
    }
    assert!(!page.body.contains(&format!("/campaigns/{id}/pause")));
    assert!(!page.body.contains(&format!("/campaigns/{id}/resume")));
    app.finish().await;
}

#[tokio::test]
async fn a_refused_form_says_why_and_keeps_what_was_entered() {
    let app = app().await;
    let t = app.tenant("Toko Ana").await;
    let number = connected_account(&app, &t.token).await;
    let web = Web::signed_in(&app, &t.owner_email).await;
    let csrf = web.csrf().await;

    // No number chosen.
    let page = web
        .post(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("name", "Promo Ramadan"),
                ("kind", "text"),
                ("text", "Halo {{contact.name|Kak}}, diskon 20%!"),
                ("audience", "tags"),
                ("tags", "vip, jakarta"),
                ("cooldown", "48"),
                ("pacing", "off"),
            ],
        )
        .await;
    page.assert_status(422);
    assert!(
        page.body.contains("Choose 1 to 50 numbers"),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"Promo Ramadan\""));
    assert!(page.body.contains("Halo {{contact.name|Kak}}, diskon 20%!"));
    assert!(page.body.contains("value=\"vip, jakarta\""));
    assert!(page.body.contains("value=\"48\""));
    assert!(page
        .body
        .contains("id=\"pacing-off\" name=\"pacing\" value=\"off\" checked"));

    // A window with one end only; the number stays ticked.
    let page = web
        .post(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("name", "Promo Ramadan"),
                ("text", "Halo"),
                ("audience", "all"),
                ("account", &number),
                ("window_start", "09:00"),
                ("window_end", ""),
            ],
        )
        .await;
    page.assert_status(422);
    assert!(page.body.contains("sending window"), "{}", page.body);
    assert!(page
        .body
        .contains(&format!("name=\"account\" value=\"{number}\" checked")));

    // An audience of tags without a tag.
    let page = web
        .post(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("name", "Promo"),
                ("text", "Halo"),
                ("audience", "tags"),
                ("tags", " , "),
                ("account", &number),
            ],
        )
        .await;
    page.assert_status(422);
    assert!(page.body.contains("Choose the audience"), "{}", page.body);

    // A CSV without a phone column, uploaded as the list of numbers.
    let page = web
        .post_multipart(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("name", "From a file"),
                ("text", "Halo"),
                ("audience", "phones"),
                ("account", &number),
            ],
            Some((
                "phones_file",
                "list.csv",
                "text/csv",
                b"name,city\nAna,Bandung\n",
            )),
        )
        .await;
    page.assert_status(422);
    assert!(page.body.contains("no phone column"), "{}", page.body);
    assert!(page.body.contains("value=\"From a file\""));
    assert_eq!(campaign_count(&app).await, 0);

    // In Indonesian, the same refusal speaks Indonesian.
    let page = web
        .post(
            "/settings/profile",
            &[("csrf", &csrf), ("name", "Toko Ana"), ("language", "id")],
        )
        .await;
    page.assert_redirect("/settings/profile?saved=1");
    let page = web
        .post(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("name", "Promo"),
                ("text", "Halo"),
                ("audience", "all"),
            ],
        )
        .await;
    page.assert_status(422);
    assert!(
        page.body.contains("Pilih 1 sampai 50 nomor"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Simpan draf"));
    app.finish().await;
}

#[tokio::test]
async fn the_preview_renders_the_message_for_the_chosen_contact() {
    let app = app().await;
    let t = app.tenant("Toko Ana").await;
    connected_account(&app, &t.token).await;
    let (status, c) = app
        .post(
            &t.token,
            "/api/v1/contacts",
            json!({"phone": "+6281200000001", "name": "Sari", "fields": {"city": "Bandung"}}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let contact = c["id"].as_str().unwrap().to_string();
    let (status, r) = app
        .post(
            &t.token,
            "/api/v1/canned-replies",
            json!({"shortcut": "promo", "body": "{{offer}} off for {{contact.name|you}}"}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let web = Web::signed_in(&app, &t.owner_email).await;
    let new = web.get("/campaigns/new").await;
    new.assert_status(200);
    assert!(new.body.contains("Sari · +6281200000001"), "{}", new.body);
    assert!(new.body.contains("name=\"var.promo.offer\""));
    let csrf = new.csrf();

    let page = web
        .post(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("intent", "preview"),
                ("name", "Promo"),
                ("kind", "text"),
                (
                    "text",
                    "Hi {{contact.name|there}} in {{contact.fields.city}}!",
                ),
                ("preview_contact", &contact),
            ],
        )
        .await;
    page.assert_status(200);
    assert!(page.body.contains("Hi Sari in Bandung!"), "{}", page.body);
    assert!(page.body.contains("What Sari reads"));

    // A canned reply with its own variable.
    let page = web
        .post(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("intent", "preview"),
                ("name", "Promo"),
                ("kind", "template"),
                ("template", "promo"),
                ("var.promo.offer", "20%"),
                ("preview_contact", &contact),
            ],
        )
        .await;
    page.assert_status(200);
    assert!(page.body.contains("20% off for Sari"), "{}", page.body);
    assert!(page.body.contains("value=\"20%\""));
    // A preview saves nothing.
    assert_eq!(campaign_count(&app).await, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_campaign_made_in_the_form_runs_and_its_csv_downloads_with_the_session() {
    let app = app().await;
    let t = app.tenant("Toko Ana").await;
    let number = connected_account(&app, &t.token).await;
    import(&app, &t.token, 0, 3, "vip", 0).await;
    let web = Web::signed_in(&app, &t.owner_email).await;
    let csrf = web.csrf().await;

    // Phones pasted and a file with a phone column: both are the audience.
    let pasted = format!("{}\n{}", phone(0), phone(1));
    let weight = format!("weight.{number}");
    let file = format!("name,phone\nThird,{}", phone(2));
    let page = web
        .post_multipart(
            "/campaigns",
            &[
                ("csrf", &csrf),
                ("intent", "save"),
                ("name", "Form promo"),
                ("kind", "text"),
                ("text", "Hi {{contact.name|there}}!"),
                ("audience", "phones"),
                ("phones", &pasted),
                ("account", &number),
                (&weight, "2"),
                ("start", "now"),
                ("cooldown", "0"),
                ("pacing", "off"),
            ],
            Some(("phones_file", "list.csv", "text/csv", file.as_bytes())),
        )
        .await;
    let to = page.assert_redirect_starts("/campaigns/");
    let id = to.trim_start_matches("/campaigns/").to_string();
    let (_, c) = app.get(&t.token, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(c["audience"]["phones"].as_array().unwrap().len(), 3, "{c}");
    assert_eq!(
        c["settings"]["typing"], false,
        "an unticked box is off: {c}"
    );
    assert_eq!(c["numbers"][0]["weight"], 2);

    let page = web.get(&to).await;
    page.assert_status(200);
    assert!(page.body.contains("Form promo"));
    let page = web
        .post(&format!("/campaigns/{id}/start"), &[("csrf", &csrf)])
        .await;
    page.assert_redirect(&to);
    wait_campaign(&app, &t.token, &id, |c| c["stats"]["sent"] == 3).await;

    // Starting twice is refused on the page, in words.
    let page = web
        .post(&format!("/campaigns/{id}/start"), &[("csrf", &csrf)])
        .await;
    page.assert_status(409);
    assert!(page.body.contains("current state"), "{}", page.body);

    let page = web.get(&format!("/campaigns/{id}")).await;
    for i in 0..3 {
        assert!(page.body.contains(&phone(i)), "{}", page.body);
    }
    // The filter shows only the recipients of that status (receipts move
    // them on meanwhile, so which ones is not fixed).
    let sent = web.get(&format!("/campaigns/{id}?status=sent")).await;
    for other in ["queued", "delivered", "read", "failed", "skipped"] {
        let row = format!("data-recipient-status=\"{other}\"");
        assert!(!sent.body.contains(&row), "{}", sent.body);
    }
    let stats = web.get(&format!("/campaigns/{id}/stats")).await;
    stats.assert_status(200);
    assert!(stats.body.contains("id=\"campaign-live\""));
    assert!(stats.body.contains("data-stat=\"sent\""));

    let csv = web
        .get(&format!("/api/v1/campaigns/{id}/recipients.csv"))
        .await;
    csv.assert_status(200);
    assert!(
        csv.body.starts_with("phone,contact_id,status"),
        "{}",
        csv.body
    );
    for i in 0..3 {
        assert!(csv.body.contains(&phone(i)), "{}", csv.body);
    }

    let list = web.get("/campaigns").await;
    assert!(list.body.contains("3 of 3 sent"), "{}", list.body);
    app.finish().await;
}
