//! Every kind of send, as the JSON Meta documents, through the fake.

use blazz_provider::{Media, MessageBody};
use serde_json::{json, Value};

use super::{cloud, common, setup};
use crate::error::{CloudError, ErrorAction};
use crate::outbound::{Button, CloudBody, ListRow, ListSection, MediaKind, MediaRef};

/// Sends one request and returns the body the fake received.
async fn sent_json(request: crate::outbound::SendRequest) -> Value {
    let (fake, graph, creds) = setup().await;
    let r = graph.send(&creds, &request).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].wamid, r.message_id);
    assert!(r.message_id.starts_with("wamid."));
    assert_eq!(r.wa_id.as_deref(), Some("15551234567"));
    sent[0].body.clone()
}

fn envelope(kind: &str, part: Value) -> Value {
    let mut v = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                       "to": "15551234567", "type": kind});
    v[kind] = part;
    v
}

#[tokio::test]
async fn text_goes_without_plus_and_with_preview_off() {
    let body = sent_json(common(MessageBody::Text {
        text: "Hello".into(),
    }))
    .await;
    assert_eq!(
        body,
        envelope("text", json!({"preview_url": false, "body": "Hello"}))
    );
}

#[tokio::test]
async fn cloud_text_can_ask_for_a_link_preview_and_quote_a_message() {
    let mut req = cloud(CloudBody::Text {
        text: "see https://blazz.dev".into(),
        preview_url: true,
    });
    req.reply_to = Some("wamid.QUOTED".into());
    req.callback_data = Some("blazz-1".into());
    let body = sent_json(req).await;
    let mut want = envelope(
        "text",
        json!({"preview_url": true, "body": "see https://blazz.dev"}),
    );
    want["context"] = json!({"message_id": "wamid.QUOTED"});
    want["biz_opaque_callback_data"] = json!("blazz-1");
    assert_eq!(body, want);
}

#[tokio::test]
async fn media_by_link_takes_captions_and_filenames_where_meta_allows() {
    let doc = cloud(CloudBody::Media {
        kind: MediaKind::Document,
        media: MediaRef::Link("https://example.com/inv.pdf".into()),
        caption: Some("Invoice".into()),
        filename: Some("inv.pdf".into()),
    });
    assert_eq!(
        sent_json(doc).await,
        envelope(
            "document",
            json!({"link": "https://example.com/inv.pdf",
                                    "caption": "Invoice", "filename": "inv.pdf"})
        )
    );
    // No caption on audio, even if one is given.
    let audio = cloud(CloudBody::Media {
        kind: MediaKind::Audio,
        media: MediaRef::Link("https://example.com/a.ogg".into()),
        caption: Some("ignored".into()),
        filename: None,
    });
    assert_eq!(
        sent_json(audio).await,
        envelope("audio", json!({"link": "https://example.com/a.ogg"}))
    );
    let video = common(MessageBody::Video {
        media_id: "https://example.com/v.mp4".into(),
        caption: Some("clip".into()),
    });
    assert_eq!(
        sent_json(video).await,
        envelope(
            "video",
            json!({"link": "https://example.com/v.mp4", "caption": "clip"})
        )
    );
}

#[tokio::test]
async fn location_contact_and_reaction() {
    let loc = common(MessageBody::Location {
        latitude: 37.48,
        longitude: -122.14,
        name: Some("HQ".into()),
        address: None,
    });
    assert_eq!(
        sent_json(loc).await,
        envelope(
            "location",
            json!({"latitude": 37.48, "longitude": -122.14, "name": "HQ"})
        )
    );
    let card = common(MessageBody::Contact {
        name: "Asha".into(),
        phones: vec!["+15550001111".into()],
    });
    assert_eq!(
        sent_json(card).await,
        envelope(
            "contacts",
            json!([{"name": {"formatted_name": "Asha", "first_name": "Asha"},
                                     "phones": [{"phone": "+15550001111"}]}])
        )
    );
    // A reaction names its message itself, never as a context.
    let mut reaction = common(MessageBody::Reaction {
        to_provider_message_id: "wamid.X".into(),
        emoji: "👍".into(),
    });
    reaction.reply_to = Some("wamid.X".into());
    assert_eq!(
        sent_json(reaction).await,
        envelope("reaction", json!({"message_id": "wamid.X", "emoji": "👍"}))
    );
}

#[tokio::test]
async fn reply_buttons_and_lists() {
    let buttons = cloud(CloudBody::Buttons {
        header: Some("Order 12".into()),
        body: "Please confirm".into(),
        footer: Some("Blazz".into()),
        buttons: vec![
            Button {
                id: "yes".into(),
                title: "Yes".into(),
            },
            Button {
                id: "no".into(),
                title: "No".into(),
            },
        ],
    });
    assert_eq!(
        sent_json(buttons).await,
        envelope(
            "interactive",
            json!({"type": "button",
            "header": {"type": "text", "text": "Order 12"},
            "body": {"text": "Please confirm"}, "footer": {"text": "Blazz"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                                   {"type": "reply", "reply": {"id": "no", "title": "No"}}]}})
        )
    );
    let list = cloud(CloudBody::List {
        header: None,
        body: "Select a service".into(),
        footer: None,
        button: "View services".into(),
        sections: vec![ListSection {
            title: Some("Support".into()),
            rows: vec![ListRow {
                id: "billing".into(),
                title: "Billing".into(),
                description: Some("Invoices".into()),
            }],
        }],
    });
    assert_eq!(
        sent_json(list).await,
        envelope(
            "interactive",
            json!({"type": "list", "body": {"text": "Select a service"},
            "action": {"button": "View services", "sections": [{"title": "Support",
                "rows": [{"id": "billing", "title": "Billing", "description": "Invoices"}]}]}})
        )
    );
    // The common interactive body: titles are the ids.
    let common_buttons = common(MessageBody::Interactive {
        body: "Pick".into(),
        buttons: vec!["A".into()],
    });
    assert_eq!(
        sent_json(common_buttons).await,
        envelope(
            "interactive",
            json!({"type": "button", "body": {"text": "Pick"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "A", "title": "A"}}]}})
        )
    );
}

#[tokio::test]
async fn more_than_three_buttons_is_refused_before_meta_is_asked() {
    let (fake, graph, creds) = setup().await;
    let four = common(MessageBody::Interactive {
        body: "Pick".into(),
        buttons: vec!["a".into(), "b".into(), "c".into(), "d".into()],
    });
    let err = graph.send(&creds, &four).await.unwrap_err();
    assert!(
        matches!(err, CloudError::Invalid(ref m) if m.contains("send a list")),
        "{err}"
    );
    assert!(fake.sent().is_empty());
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn upload_then_send_by_id() {
    let (fake, graph, creds) = setup().await;
    let media = Media {
        mime_type: "image/png".into(),
        filename: Some("dot.png".into()),
        data: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3],
    };
    let id = graph.upload_media(&creds, &media).await.unwrap();
    let up = &fake.uploads()[0];
    assert_eq!(up.id, id);
    assert_eq!(up.messaging_product.as_deref(), Some("whatsapp"));
    assert_eq!(up.mime_type, "image/png");
    assert_eq!(up.file_content_type.as_deref(), Some("image/png"));
    assert_eq!(up.filename.as_deref(), Some("dot.png"));
    assert_eq!(up.data, media.data);
    let req = common(MessageBody::Image {
        media_id: id.clone(),
        caption: Some("dot".into()),
    });
    graph.send(&creds, &req).await.unwrap();
    assert_eq!(
        fake.sent()[0].body,
        envelope("image", json!({"id": id, "caption": "dot"}))
    );
    // A sticker by an id the number never uploaded is refused by Meta.
    let bad = common(MessageBody::Sticker {
        media_id: "123".into(),
    });
    let err = graph.send(&creds, &bad).await.unwrap_err();
    assert_eq!(err.graph().map(|g| g.code), Some(100));
}

#[tokio::test]
async fn mark_read_with_and_without_the_typing_indicator() {
    let (fake, graph, creds) = setup().await;
    graph.mark_read(&creds, "wamid.IN", false).await.unwrap();
    graph.mark_read(&creds, "wamid.IN2", true).await.unwrap();
    assert_eq!(
        fake.reads(),
        vec![
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"}),
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN2",
                   "typing_indicator": {"type": "text"}}),
        ]
    );
}

#[tokio::test]
async fn a_wrong_token_is_an_auth_error() {
    let (fake, graph, mut creds) = setup().await;
    creds.access_token = "expired".into();
    let err = graph
        .send(&creds, &common(MessageBody::Text { text: "x".into() }))
        .await
        .unwrap_err();
    let g = err.graph().unwrap();
    assert_eq!((g.status, g.code), (Some(401), 190));
    assert_eq!(err.action(), ErrorAction::Reauthenticate);
    assert!(fake.sent().is_empty());
    let err = graph.phone_number(&creds).await.unwrap_err();
    assert_eq!(err.action(), ErrorAction::Reauthenticate);
}

#[tokio::test]
async fn scripted_failures_come_back_as_metas_errors() {
    let (fake, graph, creds) = setup().await;
    fake.fail_next_send(130429, Some(2494055), "(#130429) Rate limit hit", 429);
    fake.fail_next_send(131026, None, "Message undeliverable", 400);
    let text = common(MessageBody::Text { text: "x".into() });
    let first = graph.send(&creds, &text).await.unwrap_err();
    let g = first.graph().unwrap();
    assert_eq!(
        (g.status, g.code, g.subcode),
        (Some(429), 130429, Some(2494055))
    );
    assert_eq!(first.action(), ErrorAction::BackOff);
    let second = graph.send(&creds, &text).await.unwrap_err();
    assert_eq!(second.action(), ErrorAction::Permanent);
    graph.send(&creds, &text).await.unwrap();
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn the_phone_number_answers_the_connection_test() {
    let (fake, graph, creds) = setup().await;
    let info = graph.phone_number(&creds).await.unwrap();
    assert_eq!(info.id, creds.phone_number_id);
    assert_eq!(info.e164().as_deref(), Some("+15550783881"));
    assert_eq!(info.quality_rating.as_deref(), Some("GREEN"));
    assert_eq!(info.throughput.unwrap()["level"], "STANDARD");
    let line = &fake.requests()[0];
    assert!(
        line.starts_with(&format!("GET /v23.0/{}?fields=", creds.phone_number_id)),
        "{line}"
    );
    assert!(
        line.contains("quality_rating") && line.contains("messaging_limit_tier"),
        "{line}"
    );
}

#[tokio::test]
async fn an_unreachable_graph_api_is_a_network_error() {
    let graph = crate::graph::Graph::new(crate::config::GraphConfig::new(
        "http://127.0.0.1:9",
        "v23.0",
    ))
    .unwrap();
    let (_, _, creds) = setup().await;
    let err = graph.phone_number(&creds).await.unwrap_err();
    assert!(matches!(err, CloudError::Network(_)), "{err:?}");
    assert_eq!(err.action(), ErrorAction::Retry);
}
