//! Media through the API: uploads checked against WhatsApp's types and
//! sizes, downloads streamed with the stored type, only to the workspace
//! that owns them, the bytes kept under the data directory.

use blazz::media::{MediaKind, Origin};
use blazz_domain::Role;
use reqwest::header;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{assert_error, Tenant, TestApp, PASSWORD};

/// Bytes that differ from one position to the next (no sniffing happens,
/// so they need not be a real picture).
fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

async fn upload(
    app: &TestApp,
    token: &str,
    query: &str,
    mime: &str,
    data: Vec<u8>,
) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/media?{query}")))
        .bearer_auth(token)
        .header(header::CONTENT_TYPE, mime)
        .body(data)
        .send()
        .await
        .unwrap();
    answer(resp).await
}

async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A multipart form with one `file` part.
async fn upload_form(
    app: &TestApp,
    token: &str,
    query: &str,
    part_name: &str,
    filename: &str,
    mime: &str,
    data: &[u8],
) -> (u16, Value) {
    let boundary = "blazz-test-boundary-7d3f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"{part_name}\"; filename=\"{filename}\"\r\n\
         Content-Type: {mime}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/media?{query}")))
        .bearer_auth(token)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    answer(resp).await
}

/// Where the local store keeps a file of the tenant.
fn blob(app: &TestApp, t: &Tenant, id: &str) -> std::path::PathBuf {
    app.testdb
        .dir
        .path()
        .join("media")
        .join("workspaces")
        .join(t.id.to_string())
        .join(id)
}

async fn media_rows(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM media")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn an_uploaded_image_downloads_byte_for_byte_streamed_with_its_type() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Pictures").await;
    let agent = app.token(t.id, Role::Agent).await;
    let data = bytes(3_000_000);
    let (status, m) = upload(
        &app,
        &agent,
        "kind=image&filename=shop.jpg",
        "image/jpeg",
        data.clone(),
    )
    .await;
    assert_eq!(status, 201, "{m}");
    let id = m["id"].as_str().unwrap();
    assert_eq!(m["kind"], "image");
    assert_eq!(m["mime_type"], "image/jpeg");
    assert_eq!(m["filename"], "shop.jpg");
    assert_eq!(m["size_bytes"], 3_000_000);
    assert_eq!(m["sha256"], hex::encode(Sha256::digest(&data)));
    assert_eq!(m["url"], format!("/api/v1/media/{id}"));

    let mut resp = app
        .client
        .get(app.url(m["url"].as_str().unwrap()))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(h[header::CONTENT_LENGTH], "3000000");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::CACHE_CONTROL], "private");
    assert!(
        h[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline"),
        "{h:?}"
    );
    // The bytes come as the store reads them, in many pieces.
    let mut got = Vec::new();
    let mut pieces = 0;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        pieces += 1;
        got.extend_from_slice(&chunk);
    }
    assert!(got == data, "the downloaded bytes differ");
    assert!(pieces > 1, "one piece: the download was not streamed");

    let (status, info) = app.get(&agent, &format!("/api/v1/media/{id}/info")).await;
    assert_eq!((status, &info), (200, &m));
    // The bytes are in the data directory's media folder, one folder per
    // workspace.
    assert_eq!(std::fs::read(blob(&app, &t, id)).unwrap(), data);
    app.finish().await;
}

#[tokio::test]
async fn a_type_the_kind_does_not_allow_is_refused_before_anything_is_stored() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Types").await;
    for (query, mime) in [
        ("kind=image", "text/html"),
        ("kind=image", "image/gif"),
        ("kind=sticker", "image/png"),
        ("kind=video", "video/quicktime"),
        ("kind=audio", "audio/wav"),
        ("kind=document", "application/x-msdownload"),
        ("kind=document", ""),
    ] {
        let answer = upload(&app, &t.token, query, mime, bytes(100)).await;
        assert_error(&answer, 422, "media_type_not_allowed");
        let message = answer.1["error"]["message"].as_str().unwrap();
        assert!(message.contains("must be one of"), "{message}");
    }
    let form = upload_form(
        &app,
        &t.token,
        "kind=image",
        "file",
        "a.gif",
        "image/gif",
        &bytes(10),
    )
    .await;
    assert_error(&form, 422, "media_type_not_allowed");
    for query in ["kind=gif", "kind=", "kind=Image"] {
        let answer = upload(&app, &t.token, query, "image/png", bytes(10)).await;
        assert_error(&answer, 422, "invalid_media_kind");
    }
    assert_error(
        &upload(&app, &t.token, "filename=x.png", "image/png", bytes(10)).await,
        422,
        "invalid_query",
    );
    assert_error(
        &upload(&app, &t.token, "kind=image", "image/png", Vec::new()).await,
        422,
        "media_empty",
    );
    // Accepted types, parameters and case included.
    for (query, mime, stored) in [
        (
            "kind=audio",
            "audio/ogg; codecs=opus",
            "audio/ogg; codecs=opus",
        ),
        ("kind=sticker", "image/webp", "image/webp"),
        ("kind=document", "Application/PDF", "application/pdf"),
        ("kind=video", "video/3gpp", "video/3gpp"),
    ] {
        let (status, m) = upload(&app, &t.token, query, mime, bytes(10)).await;
        assert_eq!(
            (status, m["mime_type"].as_str()),
            (201, Some(stored)),
            "{m}"
        );
    }
    assert_eq!(media_rows(&app).await, 4);
    app.finish().await;
}

#[tokio::test]
async fn a_file_over_its_kinds_limit_is_refused_however_it_is_sent() {
    let app = TestApp::spawn_with(
        |c| {
            c.media.max_image_bytes = 1_000;
            c.media.max_document_bytes = 3_000_000;
        },
        blazz::jobs::Registry::builtin(),
    )
    .await;
    let t = app.tenant("Sizes").await;
    let too_big = upload(&app, &t.token, "kind=image", "image/png", bytes(1_001)).await;
    assert_error(&too_big, 422, "media_too_large");
    assert!(
        too_big.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1000 bytes"),
        "{too_big:?}"
    );
    // A form passes the announced length check and is cut off as it is read.
    let form = upload_form(
        &app,
        &t.token,
        "kind=image",
        "file",
        "a.png",
        "image/png",
        &bytes(2_000),
    )
    .await;
    assert_error(&form, 422, "media_too_large");
    assert_eq!(media_rows(&app).await, 0);
    // At the limit is fine; a document may be far bigger than the general
    // body limit (1 MiB).
    let (status, _) = upload(&app, &t.token, "kind=image", "image/png", bytes(1_000)).await;
    assert_eq!(status, 201);
    let (status, doc) = upload(
        &app,
        &t.token,
        "kind=document",
        "application/pdf",
        bytes(2_500_000),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["size_bytes"], 2_500_000);
    app.finish().await;
}

#[tokio::test]
async fn media_is_only_served_to_its_own_workspace() {
    let app = TestApp::spawn().await;
    let a = app.tenant("Owner Co").await;
    let b = app.tenant("Other Co").await;
    let (_, m) = upload(&app, &a.token, "kind=image", "image/png", bytes(500)).await;
    let id = m["id"].as_str().unwrap();
    let unknown = blazz_domain::UserId::new().to_string();
    for (method, suffix) in [
        (reqwest::Method::GET, ""),
        (reqwest::Method::GET, "/info"),
        (reqwest::Method::DELETE, ""),
    ] {
        let nothing = app
            .call(
                method.clone(),
                &b.token,
                &format!("/api/v1/media/{unknown}{suffix}"),
                None,
            )
            .await;
        assert_error(&nothing, 404, "media_not_found");
        let garbage = app
            .call(
                method.clone(),
                &a.token,
                &format!("/api/v1/media/not-an-id{suffix}"),
                None,
            )
            .await;
        assert_error(&garbage, 404, "media_not_found");
        let theirs = app
            .call(
                method.clone(),
                &b.token,
                &format!("/api/v1/media/{id}{suffix}"),
                None,
            )
            .await;
        assert_eq!(
            theirs, nothing,
            "{method} tells A's media from a missing one"
        );
    }
    // Without credentials: nothing, not even whether it exists.
    for path in [
        format!("/api/v1/media/{id}"),
        format!("/api/v1/media/{id}/info"),
    ] {
        let resp = app.client.get(app.url(&path)).send().await.unwrap();
        assert_error(&answer(resp).await, 401, "unauthorized");
    }
    let resp = app
        .client
        .post(app.url("/api/v1/media?kind=image"))
        .header(header::CONTENT_TYPE, "image/png")
        .body(bytes(10))
        .send()
        .await
        .unwrap();
    assert_error(&answer(resp).await, 401, "unauthorized");
    // A's media is untouched and still A's.
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/media/{id}")))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes(500));
    app.finish().await;
}

#[tokio::test]
async fn a_signed_in_member_downloads_with_the_browser_session() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Browser Co").await;
    let (_, m) = upload(&app, &t.token, "kind=image", "image/jpeg", bytes(2_000)).await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let html = page.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = &html[start..start + html[start..].find('"').unwrap()];
    let login = browser
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf),
            ("email", t.owner_email.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    // The first page picks the session's workspace, as in a browser.
    let home = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let resp = browser
        .get(app.url(m["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes(2_000));
    app.finish().await;
}

#[tokio::test]
async fn deleting_media_removes_its_row_and_its_bytes() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Deletes").await;
    let (_, m) = upload(&app, &t.token, "kind=video", "video/mp4", bytes(4_000)).await;
    let id = m["id"].as_str().unwrap();
    let path = blob(&app, &t, id);
    assert!(path.is_file(), "{path:?}");
    // Agents upload and read; removing what messages may point at is for
    // admins.
    let agent = app.token(t.id, Role::Agent).await;
    assert_error(
        &app.delete(&agent, &format!("/api/v1/media/{id}")).await,
        403,
        "forbidden",
    );
    let (status, _) = app.delete(&t.token, &format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 204);
    assert!(!path.exists(), "the bytes stayed at {path:?}");
    assert_eq!(media_rows(&app).await, 0);
    assert_error(
        &app.get(&t.token, &format!("/api/v1/media/{id}")).await,
        404,
        "media_not_found",
    );
    assert_error(
        &app.delete(&t.token, &format!("/api/v1/media/{id}")).await,
        404,
        "media_not_found",
    );
    app.finish().await;
}

#[tokio::test]
async fn a_document_downloads_as_an_attachment_with_its_name() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Documents").await;
    let data = bytes(70_000);
    let (status, m) = upload_form(
        &app,
        &t.token,
        "kind=document",
        "file",
        "Q3 réport.pdf",
        "application/pdf",
        &data,
    )
    .await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["filename"], "Q3 réport.pdf");
    assert_eq!(m["mime_type"], "application/pdf");
    let resp = app
        .client
        .get(app.url(m["url"].as_str().unwrap()))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"Q3 r_port.pdf\"; filename*=UTF-8''Q3%20r%C3%A9port.pdf"
    );
    assert_eq!(resp.bytes().await.unwrap().to_vec(), data);
    // A form without a `file` part says so.
    let none = upload_form(
        &app,
        &t.token,
        "kind=document",
        "upload",
        "a.pdf",
        "application/pdf",
        &data,
    )
    .await;
    assert_error(&none, 422, "invalid_body");
    // The query's name wins over the part's, reduced to a plain file name.
    let (_, named) = upload_form(
        &app,
        &t.token,
        "kind=document&filename=..%2Fsecret%2Fplan.txt",
        "file",
        "ignored.txt",
        "text/plain",
        b"plan",
    )
    .await;
    assert_eq!(named["filename"], "plan.txt");
    app.finish().await;
}

#[tokio::test]
async fn inbound_media_is_saved_and_loaded_through_the_store() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Inbound").await;
    let state = app.state();
    let voice = state
        .media
        .save(
            &app.db,
            t.id,
            MediaKind::Audio,
            "audio/ogg; codecs=opus",
            None,
            bytes(900),
            Origin::Inbound,
        )
        .await
        .unwrap();
    let (loaded, data) = state.media.load(&app.db, t.id, &voice.id).await.unwrap();
    assert_eq!(loaded, voice);
    assert_eq!(data, bytes(900));
    // A customer's document of a type we do not list is kept, as opaque
    // bytes served as an attachment.
    let page = state
        .media
        .save(
            &app.db,
            t.id,
            MediaKind::Document,
            "text/html",
            Some("page.html"),
            b"<script>alert(1)</script>".to_vec(),
            Origin::Inbound,
        )
        .await
        .unwrap();
    assert_eq!(page.mime_type, "application/octet-stream");
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/media/{}", page.id)))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    assert!(resp.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    // An image is held to its types whatever its origin.
    let gif = state
        .media
        .save(
            &app.db,
            t.id,
            MediaKind::Image,
            "image/gif",
            None,
            bytes(5),
            Origin::Inbound,
        )
        .await;
    assert!(
        matches!(gif, Err(blazz::media::MediaError::TypeNotAllowed(_))),
        "{gif:?}"
    );
    let origins: Vec<(String,)> = sqlx::query_as("SELECT origin FROM media ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        origins,
        [("inbound".to_string(),), ("inbound".to_string(),)]
    );
    app.finish().await;
}
