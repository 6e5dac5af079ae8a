//! Media lookups and downloads with the bearer token, deletes, and what
//! is refused.

use blazz_provider::Media;

use super::setup;
use crate::error::{CloudError, ErrorAction};

#[tokio::test]
async fn a_contacts_media_downloads_through_its_url_with_the_token() {
    let (fake, graph, creds) = setup().await;
    let bytes = b"\xff\xd8\xff\xe0 a jpeg".to_vec();
    let id = fake.add_media(&creds.phone_number_id, "image/jpeg", bytes.clone());
    let info = graph.media_info(&creds, &id).await.unwrap();
    assert_eq!(info.id, id);
    assert_eq!(info.mime_type.as_deref(), Some("image/jpeg"));
    assert_eq!(info.file_size, Some(bytes.len() as u64));
    assert!(
        info.url.contains("/whatsapp_business/attachments/?mid="),
        "{}",
        info.url
    );
    let media = graph.download_media(&creds, &id).await.unwrap();
    assert_eq!(media.data, bytes);
    assert_eq!(media.mime_type, "image/jpeg");
    // The lookup and the download both went with the token: the fake
    // answers 190 otherwise (checked below).
    // (`media_info`, then `download_media`'s own lookup and download.)
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(requests[1].starts_with(&format!("GET /v23.0/{id}?phone_number_id=")));
    assert!(requests[2].starts_with("GET /whatsapp_business/attachments/?mid="));
}

#[tokio::test]
async fn a_download_with_a_wrong_token_is_an_auth_error() {
    let (fake, graph, mut creds) = setup().await;
    let id = fake.add_media(&creds.phone_number_id, "image/jpeg", vec![1, 2, 3]);
    creds.access_token = "wrong".into();
    let err = graph.download_media(&creds, &id).await.unwrap_err();
    assert_eq!(err.action(), ErrorAction::Reauthenticate);
}

#[tokio::test]
async fn an_unknown_media_id_is_metas_unknown_object() {
    let (_fake, graph, creds) = setup().await;
    let err = graph.download_media(&creds, "4242").await.unwrap_err();
    let g = err.graph().unwrap();
    assert_eq!((g.code, g.subcode), (100, Some(33)));
    assert_eq!(err.action(), ErrorAction::Permanent);
}

#[tokio::test]
async fn uploads_can_be_deleted() {
    let (fake, graph, creds) = setup().await;
    let media = Media {
        mime_type: "application/pdf".into(),
        filename: Some("a \"quoted\"\r\nname.pdf".into()),
        data: b"%PDF-1.4".to_vec(),
    };
    let id = graph.upload_media(&creds, &media).await.unwrap();
    // Quotes and line breaks cannot break the multipart header.
    assert_eq!(
        fake.uploads()[0].filename.as_deref(),
        Some("a quotedname.pdf")
    );
    graph.delete_media(&creds, &id).await.unwrap();
    assert!(fake.uploads().is_empty());
    assert_eq!(fake.deleted_media(), vec![id]);
}

#[tokio::test]
async fn an_empty_file_is_not_uploaded() {
    let (fake, graph, creds) = setup().await;
    let err = graph
        .upload_media(&creds, &Media::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::Invalid(_)));
    assert!(fake.requests().is_empty());
}
