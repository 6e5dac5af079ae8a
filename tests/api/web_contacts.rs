//! The contacts pages over HTTP, as a signed-in browser posts them: another
//! workspace's contacts are "not found" and never listed, searched or
//! exported; forms need the session's token; members may do what the API
//! lets them; an import writes nothing before it is confirmed; bad files
//! are refused on the page with a reason.

use serde_json::json;

use crate::helpers::TestApp;
use crate::web_client::{join, Page, Web};

/// Posts the import form: the session's `csrf`, no tags, and a file.
async fn upload(web: &Web, csrf: &str, filename: &str, file: &[u8]) -> Page {
    web.post_multipart(
        "/contacts/import",
        &[("csrf", csrf), ("tags", "")],
        Some(("file", filename, "text/csv", file)),
    )
    .await
}

async fn contacts_count(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM contacts")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    n
}

/// Adds a contact through the API; returns its id.
async fn api_contact(app: &TestApp, token: &str, phone: &str, name: &str) -> String {
    let (status, c) = app
        .post(
            token,
            "/api/v1/contacts",
            json!({"phone": phone, "name": name, "tags": ["secret"]}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    c["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn another_workspaces_contact_is_not_found_and_never_listed_searched_or_exported() {
    let app = TestApp::spawn().await;
    let mine = app.tenant("Mine").await;
    let theirs = app.tenant("Theirs").await;
    let own = api_contact(&app, &mine.token, "+1 415 555 2601", "Ana Mine").await;
    let other = api_contact(&app, &theirs.token, "+1 415 555 2699", "Zed Secret").await;

    let web = Web::signed_in(&app, &mine.owner_email).await;
    let csrf = web.csrf().await;
    let list = web.get("/contacts").await;
    assert!(list.body.contains("Ana Mine"), "{}", list.body);
    assert!(!list.body.contains("Zed Secret"));
    for path in [
        "/contacts?q=Zed",
        "/contacts?q=2699",
        "/contacts?tag=secret",
    ] {
        let page = web.get(path).await;
        page.assert_status(200);
        assert!(!page.body.contains("Zed Secret"), "{path}: {}", page.body);
        assert!(!page.body.contains("+14155552699"), "{path}");
    }
    // The tag filter finds this workspace's own contact with the same tag.
    assert!(web
        .get("/contacts?tag=secret")
        .await
        .body
        .contains("Ana Mine"));

    // View, edit, tag and delete another workspace's contact: not found.
    let view = web.get(&format!("/contacts/{other}")).await;
    view.assert_status(404);
    assert!(!view.body.contains("Zed Secret"));
    let edit = web
        .post(
            &format!("/contacts/{other}"),
            &[
                ("csrf", &csrf),
                ("phone", "+14155552698"),
                ("name", "Taken"),
            ],
        )
        .await;
    edit.assert_status(404);
    for action in ["tags", "tags/remove"] {
        web.post(
            &format!("/contacts/{other}/{action}"),
            &[("csrf", &csrf), ("tag", "secret")],
        )
        .await
        .assert_status(404);
    }
    web.post(&format!("/contacts/{other}/delete"), &[("csrf", &csrf)])
        .await
        .assert_status(404);
    let (status, still) = app
        .get(&theirs.token, &format!("/api/v1/contacts/{other}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (still["name"].clone(), still["tags"].clone()),
        (json!("Zed Secret"), json!(["secret"])),
        "the other workspace's contact is unchanged"
    );
    // An id that names nothing reads the same.
    web.get("/contacts/not-an-id").await.assert_status(404);
    web.get(&format!("/contacts/{own}"))
        .await
        .assert_status(200);

    // The export holds this workspace's contacts only.
    let resp = web
        .client
        .get(format!("{}/contacts/export", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    assert!(csv.contains("+14155552601,Ana Mine,secret"), "{csv}");
    assert!(!csv.contains("2699") && !csv.contains("Zed"), "{csv}");
    app.finish().await;
}

#[tokio::test]
async fn contact_forms_without_the_session_token_change_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Tokens").await;
    let id = api_contact(&app, &t.token, "+1 415 555 2602", "Kept").await;
    let web = Web::signed_in(&app, &t.owner_email).await;

    for csrf in ["", "wrong"] {
        let add = web
            .post(
                "/contacts",
                &[("csrf", csrf), ("phone", "+14155552603"), ("name", "New")],
            )
            .await;
        add.assert_status(403);
        assert!(add.body.contains("expired"), "{}", add.body);
        web.post(
            &format!("/contacts/{id}"),
            &[
                ("csrf", csrf),
                ("phone", "+14155552602"),
                ("name", "Changed"),
            ],
        )
        .await
        .assert_status(403);
        web.post(
            &format!("/contacts/{id}/tags"),
            &[("csrf", csrf), ("tag", "added")],
        )
        .await
        .assert_status(403);
        web.post(&format!("/contacts/{id}/delete"), &[("csrf", csrf)])
            .await
            .assert_status(403);
        upload(&web, csrf, "c.csv", b"phone,name\n+14155552604,Imp\n")
            .await
            .assert_status(403);
    }
    assert_eq!(contacts_count(&app).await, 1);
    let (_, c) = app.get(&t.token, &format!("/api/v1/contacts/{id}")).await;
    assert_eq!(
        (c["name"].clone(), c["tags"].clone()),
        (json!("Kept"), json!(["secret"]))
    );

    // A preview's confirmation needs the token too.
    let csrf = web.csrf().await;
    let to = upload(&web, &csrf, "c.csv", b"phone,name\n+14155552604,Imp\n")
        .await
        .assert_redirect_starts("/contacts/import/");
    web.post(&to, &[("csrf", "wrong")]).await.assert_status(403);
    assert_eq!(contacts_count(&app).await, 1);
    web.post(&to, &[("csrf", &csrf)])
        .await
        .assert_redirect_starts("/contacts?imported=1");
    assert_eq!(contacts_count(&app).await, 2);
    app.finish().await;
}

#[tokio::test]
async fn agents_add_edit_import_export_and_delete_contacts_as_the_api_lets_them() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Roles").await;
    // The API's rule: any member manages contacts, agents included.
    let agent_token = app.token(t.id, blazz_domain::Role::Agent).await;
    let via_api = api_contact(&app, &agent_token, "+1 415 555 2605", "By Api").await;
    let (status, _) = app
        .delete(&agent_token, &format!("/api/v1/contacts/{via_api}"))
        .await;
    assert_eq!(status, 204);

    let bo = join(&app, &t.token, "bo@example.com", "agent").await;
    let csrf = bo.csrf().await;
    let to = bo
        .post(
            "/contacts",
            &[
                ("csrf", &csrf),
                ("phone", "+1 415 555 2606"),
                ("name", "Agent Added"),
                ("tags", "VIP, leads"),
            ],
        )
        .await
        .assert_redirect_starts("/contacts/");
    let page = bo.get(&to).await;
    page.assert_status(200);
    assert!(page.body.contains("Agent Added"));
    assert!(page.body.contains("+14155552606"));
    assert!(
        page.body.contains("Delete this contact"),
        "agents see delete: the API lets them"
    );
    bo.post(
        &to,
        &[
            ("csrf", &csrf),
            ("phone", "+14155552606"),
            ("name", "Agent Edited"),
            ("opted_out", "on"),
        ],
    )
    .await
    .assert_redirect_starts(&to);
    let id = to.trim_start_matches("/contacts/");
    let (_, c) = app.get(&t.token, &format!("/api/v1/contacts/{id}")).await;
    assert_eq!(c["name"], "Agent Edited");
    assert_eq!(c["opted_out"], true);
    assert_eq!(c["tags"], json!(["leads", "vip"]));

    let preview = upload(&bo, &csrf, "a.csv", b"phone,name\n+14155552607,Imported\n")
        .await
        .assert_redirect_starts("/contacts/import/");
    bo.post(&preview, &[("csrf", &csrf)])
        .await
        .assert_redirect_starts("/contacts?imported=1");
    let export = bo.get("/contacts/export").await;
    export.assert_status(200);
    assert!(
        export.body.contains("+14155552607,Imported"),
        "{}",
        export.body
    );

    bo.post(&format!("{to}/delete"), &[("csrf", &csrf)])
        .await
        .assert_redirect_starts("/contacts?deleted");
    let (status, _) = app.get(&t.token, &format!("/api/v1/contacts/{id}")).await;
    assert_eq!(status, 404);
    app.finish().await;
}

#[tokio::test]
async fn an_import_preview_lists_bad_rows_and_writes_nothing_until_confirmed() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Preview").await;
    api_contact(&app, &t.token, "+1 415 555 2610", "Old Name").await;
    let web = Web::signed_in(&app, &t.owner_email).await;
    let csrf = web.csrf().await;
    let file = "phone,name,tags,city\n\
                +1 415 555 2611,Asha,vip,Lagos\n\
                not a number,Bo,,Accra\n\
                +1 415 555 2610,New Name,,\n\
                +14155552611,Asha Again,,\n";
    let outbox_before: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();

    let to = upload(&web, &csrf, "people.csv", file.as_bytes())
        .await
        .assert_redirect_starts("/contacts/import/");
    let preview = web.get(&to).await;
    preview.assert_status(200);
    let b = &preview.body;
    assert!(b.contains("4 rows in people.csv"), "{b}");
    assert!(b.contains("1 new contact<"), "{b}");
    assert!(b.contains("1 contact updated"), "{b}");
    assert!(b.contains("2 rows with errors"), "{b}");
    assert!(
        b.contains("<td>3</td><td>phone</td><td>Not a phone number"),
        "line, column and reason of the bad phone: {b}"
    );
    assert!(
        b.contains("<td>5</td><td>phone</td><td>The same phone number is on an earlier line"),
        "the duplicate: {b}"
    );
    assert!(b.contains("custom fields: city"), "{b}");
    assert!(b.contains("Import now"), "{b}");

    // Looking at the preview (twice) writes nothing.
    web.get(&to).await.assert_status(200);
    assert_eq!(contacts_count(&app).await, 1);
    let outbox_now: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(outbox_now, outbox_before, "a preview sends no events");
    let (_, old) = app.get(&t.token, "/api/v1/contacts?q=2610").await;
    assert_eq!(old["data"][0]["name"], "Old Name");

    // Another member, or another workspace, cannot see or confirm it.
    let other = app.tenant("Elsewhere").await;
    let them = Web::signed_in(&app, &other.owner_email).await;
    let their_csrf = them.csrf().await;
    them.get(&to).await.assert_status(404);
    them.post(&to, &[("csrf", &their_csrf)])
        .await
        .assert_status(404);
    assert_eq!(contacts_count(&app).await, 1);

    // Confirmed: written once.
    let done = web
        .post(&to, &[("csrf", &csrf)])
        .await
        .assert_redirect_starts("/contacts?");
    assert_eq!(done, "/contacts?imported=1&updated=1");
    let list = web.get(&done).await;
    assert!(list.body.contains("1 added, 1 updated"), "{}", list.body);
    assert!(list.body.contains("Asha") && list.body.contains("New Name"));
    assert_eq!(contacts_count(&app).await, 2);
    let (_, asha) = app.get(&t.token, "/api/v1/contacts?q=2611").await;
    assert_eq!(asha["data"][0]["fields"]["city"], "Lagos");
    // The upload is spent: a second confirmation imports nothing.
    let again = web.post(&to, &[("csrf", &csrf)]).await;
    again.assert_status(404);
    assert!(
        again.body.contains("Upload the file again"),
        "{}",
        again.body
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_files_are_refused_on_the_page_with_a_reason() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Files").await;
    let web = Web::signed_in(&app, &t.owner_email).await;
    let csrf = web.csrf().await;

    let png = [
        0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff, 0xfe,
    ];
    let not_csv = upload(&web, &csrf, "photo.png", &png).await;
    not_csv.assert_status(422);
    assert!(
        not_csv.body.contains("This is not a CSV file"),
        "{}",
        not_csv.body
    );
    assert!(not_csv.body.contains("<form"), "the form is shown again");

    let wrong = upload(
        &web,
        &csrf,
        "w.csv",
        b"Mobile,Full name\n+14155552620,Ana\n",
    )
    .await;
    wrong.assert_status(422);
    assert!(
        wrong.body.contains("no “phone” column") && wrong.body.contains("Mobile, Full name"),
        "{}",
        wrong.body
    );

    let empty = upload(&web, &csrf, "e.csv", b"").await;
    empty.assert_status(422);
    assert!(empty.body.contains("The file is empty"), "{}", empty.body);

    let mut big = b"phone,name\n".to_vec();
    while big.len() <= 5 * 1024 * 1024 {
        big.extend_from_slice(b"+14155552621,A name long enough to fill the file quickly\n");
    }
    let large = upload(&web, &csrf, "big.csv", &big).await;
    large.assert_status(413);
    assert!(large.body.contains("larger than 5 MB"), "{}", large.body);

    // A file bigger than the rest of the site's request limit (1 MiB) but
    // within the import's is taken.
    let mut fine = b"phone,name\n".to_vec();
    let mut i = 0;
    while fine.len() <= 1536 * 1024 {
        fine.extend_from_slice(
            format!(
                "+1415555{:04},Someone with a long enough name\n",
                1000 + i % 9000
            )
            .as_bytes(),
        );
        i += 1;
    }
    upload(&web, &csrf, "fine.csv", &fine)
        .await
        .assert_redirect_starts("/contacts/import/");

    // Only the rows are bad: the preview says so and offers nothing.
    let to = upload(
        &web,
        &csrf,
        "bad.csv",
        b"phone,opted_out\nhello,no\n+14155552622,maybe\n",
    )
    .await
    .assert_redirect_starts("/contacts/import/");
    let preview = web.get(&to).await;
    assert!(
        preview.body.contains("2 rows with errors"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("opted_out must be yes or no"));
    assert!(preview.body.contains("Nothing to import"));
    assert!(!preview.body.contains("Import now"));
    assert_eq!(contacts_count(&app).await, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_refused_contact_form_shows_the_reason_and_keeps_what_was_entered() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Forms").await;
    let id = api_contact(&app, &t.token, "+1 415 555 2630", "First").await;
    api_contact(&app, &t.token, "+1 415 555 2631", "Second").await;
    let web = Web::signed_in(&app, &t.owner_email).await;
    let csrf = web.csrf().await;

    let bad = web
        .post(
            "/contacts",
            &[
                ("csrf", &csrf),
                ("phone", "hello there"),
                ("name", "Typed Name"),
                ("tags", "typed-tag"),
                ("notes", "typed notes"),
            ],
        )
        .await;
    bad.assert_status(422);
    assert!(
        bad.body.contains("not a phone number Blazz can use"),
        "{}",
        bad.body
    );
    for kept in [
        "value=\"hello there\"",
        "value=\"Typed Name\"",
        "value=\"typed-tag\"",
        ">typed notes<",
    ] {
        assert!(bad.body.contains(kept), "{kept} kept: {}", bad.body);
    }

    let taken = web
        .post(
            &format!("/contacts/{id}"),
            &[
                ("csrf", &csrf),
                ("phone", "+14155552631"),
                ("name", "Renamed"),
            ],
        )
        .await;
    taken.assert_status(409);
    assert!(taken.body.contains("already exists"), "{}", taken.body);
    assert!(taken.body.contains("value=\"Renamed\""), "{}", taken.body);
    let (_, c) = app.get(&t.token, &format!("/api/v1/contacts/{id}")).await;
    assert_eq!(c["name"], "First", "nothing changed");

    let long_tag = "x".repeat(51);
    let tag = web
        .post(
            &format!("/contacts/{id}/tags"),
            &[("csrf", &csrf), ("tag", &long_tag)],
        )
        .await;
    tag.assert_status(422);
    assert!(
        tag.body.contains("Tags have 1 to 50 characters"),
        "{}",
        tag.body
    );
    app.finish().await;
}

#[tokio::test]
async fn the_list_searches_filters_by_tag_and_pages() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Many").await;
    for i in 0..55 {
        let tags = if i % 10 == 0 {
            json!(["tenth"])
        } else {
            json!([])
        };
        let (status, c) = app
            .post(
                &t.token,
                "/api/v1/contacts",
                json!({"phone": format!("+1 415 555 {}", 2700 + i), "name": format!("Person {i:02}"), "tags": tags}),
            )
            .await;
        assert_eq!(status, 201, "{c}");
    }
    let web = Web::signed_in(&app, &t.owner_email).await;
    let first = web.get("/contacts").await;
    first.assert_status(200);
    assert_eq!(
        first.body.matches("class=\"phone\"").count(),
        50,
        "a page of 50"
    );
    assert!(first.body.contains("Person 54") && !first.body.contains("Person 04"));
    let marker = "rel=\"next\" href=\"";
    let at = first.body.find(marker).expect("a next page link") + marker.len();
    let next = first.body[at..at + first.body[at..].find('"').unwrap()].replace("&amp;", "&");
    let second = web.get(&next).await;
    second.assert_status(200);
    assert!(second.body.contains("Person 04") && second.body.contains("Person 00"));
    assert!(!second.body.contains("Person 54"));
    assert!(!second.body.contains("rel=\"next\""));

    let search = web.get("/contacts?q=person+07").await;
    assert!(search.body.contains("Person 07") && !search.body.contains("Person 08"));
    let by_phone = web.get("/contacts?q=2712").await;
    assert!(by_phone.body.contains("Person 12") && !by_phone.body.contains("Person 13"));
    let tagged = web.get("/contacts?tag=TENTH").await;
    assert_eq!(
        tagged.body.matches("class=\"phone\"").count(),
        6,
        "{}",
        tagged.body
    );
    assert!(tagged.body.contains("Only contacts tagged “tenth”"));
    // A word searched for is also offered as a tag.
    let word = web.get("/contacts?q=Tenth").await;
    assert!(word.body.contains("No contact matches"), "{}", word.body);
    assert!(
        word.body.contains("href=\"/contacts?tag=tenth\""),
        "{}",
        word.body
    );
    let none = web.get("/contacts?q=nobody").await;
    assert!(none.body.contains("No contact matches"), "{}", none.body);
    app.finish().await;
}

#[tokio::test]
async fn a_new_workspace_sees_what_to_do_first() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Fresh").await;
    let web = Web::signed_in(&app, &t.owner_email).await;
    let page = web.get("/contacts").await;
    page.assert_status(200);
    assert!(page.body.contains("data-testid=\"empty\""), "{}", page.body);
    for hint in [
        "/contacts/new",
        "/contacts/import",
        "writes to one of your numbers",
    ] {
        assert!(page.body.contains(hint), "{hint}: {}", page.body);
    }
    app.finish().await;
}

/// A chat of the contact on a new sandbox number of the workspace.
async fn chat_with(
    app: &TestApp,
    token: &str,
    ws: blazz_domain::WorkspaceId,
    contact: &str,
) -> String {
    let (status, account) = app
        .post(
            token,
            "/api/v1/accounts",
            json!({"provider": "sandbox", "name": "Shop line"}),
        )
        .await;
    assert_eq!(status, 201, "{account}");
    let account = account["id"].as_str().unwrap().parse().unwrap();
    let mut conn = app.db.write().await.unwrap();
    let (chat, _) =
        blazz_store::chats::find_or_create(&mut conn, ws, account, contact.parse().unwrap())
            .await
            .unwrap();
    chat.to_string()
}

#[tokio::test]
async fn a_contacts_page_edits_custom_fields_and_links_only_its_own_chats() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Fields").await;
    let other = app.tenant("Other Fields").await;
    let (_, c) = app
        .post(
            &t.token,
            "/api/v1/contacts",
            json!({"phone": "+1 415 555 2640", "name": "Fia", "fields": {"orders": 3, "city": "Lagos"}}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    let chat = chat_with(&app, &t.token, t.id, &id).await;
    // The same phone in another workspace, with a chat there.
    let twin = api_contact(&app, &other.token, "+1 415 555 2640", "Twin").await;
    let their_chat = chat_with(&app, &other.token, other.id, &twin).await;

    let web = Web::signed_in(&app, &t.owner_email).await;
    let csrf = web.csrf().await;
    let page = web.get(&format!("/contacts/{id}")).await;
    page.assert_status(200);
    assert!(
        page.body.contains(&format!("href=\"/inbox/{chat}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Chat on Shop line"), "{}", page.body);
    assert!(
        !page.body.contains(&their_chat),
        "another workspace's chat is not linked"
    );
    assert!(
        page.body.contains("name=\"field.orders\" value=\"3\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("name=\"field.city\" value=\"Lagos\""),
        "{}",
        page.body
    );

    // A bad field name is refused with what was entered kept.
    let bad = web
        .post(
            &format!("/contacts/{id}"),
            &[
                ("csrf", &csrf),
                ("phone", "+14155552640"),
                ("name", "Fia Edited"),
                ("field.orders", "3"),
                ("field.city", "Lagos"),
                ("new_field_name", "bad key!"),
                ("new_field_value", "x"),
            ],
        )
        .await;
    bad.assert_status(422);
    assert!(
        bad.body
            .contains("Field names have letters, digits and _ only"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"bad key!\"") && bad.body.contains("value=\"Fia Edited\""));

    // Unchanged fields keep their type, an emptied one goes, a new one comes.
    web.post(
        &format!("/contacts/{id}"),
        &[
            ("csrf", &csrf),
            ("phone", "+14155552640"),
            ("name", "Fia"),
            ("field.orders", "3"),
            ("field.city", ""),
            ("new_field_name", "tier"),
            ("new_field_value", "gold"),
        ],
    )
    .await
    .assert_redirect_starts(&format!("/contacts/{id}"));
    let (_, after) = app.get(&t.token, &format!("/api/v1/contacts/{id}")).await;
    assert_eq!(after["fields"], json!({"orders": 3, "tier": "gold"}));
    app.finish().await;
}
