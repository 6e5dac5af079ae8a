//! The contacts pages in the browser: the empty list, adding a contact,
//! searching, editing its tags, importing a CSV through its preview (one
//! bad row shown, then confirmed), exporting, and another workspace that
//! sees none of it.

use super::Browser;
use crate::helpers::TestApp;

const FILE: &str = "phone,name,tags,notes\n\
+1 415 555 2681,Bayu Imported,wholesale;jakarta,first order in May\n\
call me maybe,Broken Row,,\n\
+1 415 555 2682,Citra Imported,,\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_added_tagged_imported_and_exported_in_the_browser() {
    let app = TestApp::spawn().await;
    let b = Browser::launch(&app.base).await;

    b.set_up("Ana Owner", "ana@example.com", "Ana Shop").await;

    // No contacts yet: the page says how to get some.
    b.click("header a[href='/contacts']").await;
    let empty = b.wait_for("[data-testid=empty]").await;
    assert!(empty.contains("Import a CSV file"), "{empty}");
    assert!(empty.contains("writes to one of your numbers"), "{empty}");

    // Add one by hand.
    b.click("main a[href='/contacts/new']").await;
    b.fill("#contact-name", "Asha Customer").await;
    b.fill("#contact-phone", "+1 (415) 555-2671").await;
    b.fill("#contact-tags", "VIP").await;
    b.press("Add contact").await;
    b.wait_text("main h1", "Asha Customer").await;
    let contact_path = b.path().await;
    assert!(contact_path.starts_with("/contacts/"), "{contact_path}");
    assert_eq!(b.value("#contact-phone").await, "+14155552671");
    b.wait_text("[data-testid=tags]", "vip").await;

    // Edit its tags: add one, remove another.
    b.fill("#new-tag", "Wholesale").await;
    b.press("Add").await;
    b.wait_text("[data-testid=tags]", "wholesale").await;
    b.click("button[aria-label='Remove the tag vip']").await;
    b.wait_for("[data-testid=tags]").await;
    let deadline = tokio::time::Instant::now() + super::WAIT;
    while b.wait_for("[data-testid=tags]").await.contains("vip") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "vip was not removed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(b.body().await.contains("No chats with this contact yet"));
    b.goto(&contact_path).await;
    b.wait_text("[data-testid=tags]", "wholesale").await;
    b.screenshot("contacts-edit").await;

    // Search for it, by name and by part of the number.
    b.goto("/contacts").await;
    b.fill("#contacts-q", "asha").await;
    b.press("Search").await;
    b.wait_text("tbody", "Asha Customer").await;
    b.fill("#contacts-q", "nobody at all").await;
    b.press("Search").await;
    b.wait_for("[data-testid=no-match]").await;
    b.goto("/contacts?q=2671").await;
    b.wait_text("tbody", "Asha Customer").await;

    // Import a file with one bad row: the preview names it, nothing is
    // written until confirmed.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("customers.csv");
    std::fs::write(&file, FILE).unwrap();
    b.goto("/contacts/import").await;
    b.choose_file("#import-file", &file).await;
    b.press("Check the file").await;
    let preview = b.wait_for("[data-testid=preview]").await;
    assert!(preview.contains("3 rows in customers.csv"), "{preview}");
    assert!(preview.contains("2 new contacts"), "{preview}");
    assert!(preview.contains("1 row with an error"), "{preview}");
    let errors = b.wait_for("[data-testid=row-errors] tbody").await;
    assert!(
        errors.contains("3") && errors.contains("phone") && errors.contains("Not a phone number"),
        "{errors}"
    );
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM contacts")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1, "the preview wrote nothing");
    b.screenshot("contacts-import-preview").await;
    b.press("Import now").await;
    let done = b.wait_for("[data-testid=imported]").await;
    assert!(done.contains("2 added"), "{done}");
    b.wait_text("tbody", "Bayu Imported").await;
    b.wait_text("tbody", "Citra Imported").await;
    assert!(!b.body().await.contains("Broken Row"));
    b.screenshot("contacts-list").await;
    // At phone width the list still reads (the tags column folds away).
    b.resize(390, 844).await;
    b.goto(&contact_path).await;
    b.wait_text("main h1", "Asha Customer").await;
    b.screenshot("contacts-edit-phone").await;
    b.goto("/contacts").await;
    b.wait_text("tbody", "Bayu Imported").await;
    b.screenshot("contacts-list-phone").await;
    b.resize(1200, 1000).await;

    // Export: the link downloads the workspace's contacts as CSV.
    b.wait_for("main a[href='/contacts/export'][download]")
        .await;
    let session = b.cookie("blazz_session").await;
    let resp = reqwest::Client::new()
        .get(app.url("/contacts/export"))
        .header(reqwest::header::COOKIE, format!("blazz_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let csv = resp.text().await.unwrap();
    let mut lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.remove(0), "phone,name,tags,notes,opted_out");
    lines.sort();
    assert_eq!(
        lines,
        [
            "+14155552671,Asha Customer,wholesale,,false",
            "+14155552681,Bayu Imported,jakarta;wholesale,first order in May,false",
            "+14155552682,Citra Imported,,,false",
        ]
    );

    // Someone of another workspace sees none of them.
    let other = app.tenant("Other Shop").await;
    b.sign_out().await;
    b.sign_in(&other.owner_email, "Other Shop").await;
    b.goto("/contacts").await;
    b.wait_for("[data-testid=empty]").await;
    b.goto("/contacts?q=Asha").await;
    b.wait_for("[data-testid=no-match]").await;
    assert!(!b.body().await.contains("Asha Customer"));
    b.goto(&contact_path).await;
    b.wait_text("main h1", "Not found").await;
    assert!(!b.body().await.contains("Asha"));

    b.close().await;
    app.finish().await;
}
