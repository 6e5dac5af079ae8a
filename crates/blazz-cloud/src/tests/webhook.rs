//! Webhook calls in Meta's documented shapes: every inbound type, statuses, template statuses, several entries and
//! changes in one call.

use blazz_provider::{MessageBody, ReceiptStatus};
use serde_json::{json, Value};

use crate::error::ErrorAction;
use crate::webhook::{
    business_account_ids, parse, phone_number_ids, Change, MessageChange, WebhookError,
};

fn call(changes: Vec<Value>) -> Vec<u8> {
    json!({"object": "whatsapp_business_account",
           "entry": [{"id": "102290129340398", "changes": changes}]})
    .to_string()
    .into_bytes()
}

fn messages_change(messages: Vec<Value>) -> Value {
    json!({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Jane"}, "wa_id": "16315551181"}],
        "messages": messages}})
}

/// The one message of a call with this message object.
fn one(message: Value) -> MessageChange {
    let mut m = json!({"from": "16315551181", "id": "wamid.IN1", "timestamp": "1504902988"});
    for (k, v) in message.as_object().unwrap() {
        m[k] = v.clone();
    }
    let changes = parse(&call(vec![messages_change(vec![m])])).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    match changes.into_iter().next().unwrap() {
        Change::Message(m) => m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_text_message_with_its_sender_and_time() {
    let m = one(json!({"type": "text", "text": {"body": "hi"}}));
    assert_eq!(m.phone_number_id, "106540352242922");
    assert_eq!(m.contact_name.as_deref(), Some("Jane"));
    assert_eq!(m.message.provider_message_id, "wamid.IN1");
    assert_eq!(m.message.from, "+16315551181");
    assert_eq!(m.message.push_name.as_deref(), Some("Jane"));
    assert_eq!(m.message.timestamp_ms, 1_504_902_988_000);
    assert_eq!(m.message.body, MessageBody::Text { text: "hi".into() });
    assert_eq!(m.media, None);
}

#[test]
fn media_messages_carry_metas_media_id_to_download() {
    let m = one(
        json!({"type": "image", "image": {"caption": "look", "mime_type": "image/jpeg",
        "sha256": "abc", "id": "2754859441498128"}}),
    );
    assert_eq!(
        m.message.body,
        MessageBody::Image {
            media_id: "2754859441498128".into(),
            caption: Some("look".into())
        }
    );
    let media = m.media.unwrap();
    assert_eq!(media.id, "2754859441498128");
    assert_eq!(media.mime_type.as_deref(), Some("image/jpeg"));

    let m = one(
        json!({"type": "document", "document": {"caption": "inv", "filename": "inv.pdf",
        "mime_type": "application/pdf", "sha256": "x", "id": "77"}}),
    );
    assert_eq!(
        m.message.body,
        MessageBody::Document {
            media_id: "77".into(),
            filename: Some("inv.pdf".into()),
            caption: Some("inv".into())
        }
    );
    assert_eq!(m.media.unwrap().filename.as_deref(), Some("inv.pdf"));

    let m = one(
        json!({"type": "audio", "audio": {"mime_type": "audio/ogg; codecs=opus",
        "sha256": "x", "id": "78", "voice": true}}),
    );
    assert_eq!(
        m.message.body,
        MessageBody::Audio {
            media_id: "78".into()
        }
    );
    let m = one(json!({"type": "video", "video": {"mime_type": "video/mp4", "id": "79"}}));
    assert_eq!(
        m.message.body,
        MessageBody::Video {
            media_id: "79".into(),
            caption: None
        }
    );
    let m = one(
        json!({"type": "sticker", "sticker": {"mime_type": "image/webp",
        "sha256": "x", "id": "80", "animated": false}}),
    );
    assert_eq!(
        m.message.body,
        MessageBody::Sticker {
            media_id: "80".into()
        }
    );
}

#[test]
fn location_contacts_and_reactions() {
    let m = one(
        json!({"type": "location", "location": {"latitude": 38.9, "longitude": -77.03,
        "name": "Office", "address": "1 Main St"}}),
    );
    assert_eq!(
        m.message.body,
        MessageBody::Location {
            latitude: 38.9,
            longitude: -77.03,
            name: Some("Office".into()),
            address: Some("1 Main St".into())
        }
    );
    let m = one(json!({"type": "contacts", "contacts": [{
        "name": {"formatted_name": "John Smith", "first_name": "John", "last_name": "Smith"},
        "phones": [{"phone": "+1 (940) 555-1234", "wa_id": "19405551234", "type": "CELL"},
                   {"wa_id": "19405550000", "type": "WORK"}]}]}));
    assert_eq!(
        m.message.body,
        MessageBody::Contact {
            name: "John Smith".into(),
            phones: vec!["+1 (940) 555-1234".into(), "+19405550000".into()]
        }
    );
    let m =
        one(json!({"type": "reaction", "reaction": {"message_id": "wamid.OUT", "emoji": "👍"}}));
    assert_eq!(
        m.message.body,
        MessageBody::Reaction {
            to_provider_message_id: "wamid.OUT".into(),
            emoji: "👍".into()
        }
    );
    // A removed reaction has an empty emoji.
    let m = one(json!({"type": "reaction", "reaction": {"message_id": "wamid.OUT"}}));
    assert!(matches!(m.message.body, MessageBody::Reaction { emoji, .. } if emoji.is_empty()));
}

#[test]
fn button_list_and_quick_reply_taps_with_their_context() {
    let m = one(
        json!({"context": {"from": "15550783881", "id": "wamid.OURS"},
        "type": "interactive", "interactive": {"type": "button_reply",
        "button_reply": {"id": "cancel-button", "title": "Cancel"}}}),
    );
    assert_eq!(m.message.reply_to.as_deref(), Some("wamid.OURS"));
    assert_eq!(
        m.message.body,
        MessageBody::ButtonReply {
            id: "cancel-button".into(),
            title: "Cancel".into(),
            description: None
        }
    );
    let m = one(
        json!({"type": "interactive", "interactive": {"type": "list_reply",
        "list_reply": {"id": "billing", "title": "Billing", "description": "Invoices"}}}),
    );
    assert_eq!(
        m.message.body,
        MessageBody::ButtonReply {
            id: "billing".into(),
            title: "Billing".into(),
            description: Some("Invoices".into())
        }
    );
    let m = one(
        json!({"context": {"from": "15550783881", "id": "wamid.TPL"},
        "type": "button", "button": {"payload": "STOP_PROMOS", "text": "Stop promotions"}}),
    );
    assert_eq!(
        m.message.body,
        MessageBody::ButtonReply {
            id: "STOP_PROMOS".into(),
            title: "Stop promotions".into(),
            description: None
        }
    );
}

#[test]
fn unsupported_and_unknown_types_are_kept_as_unsupported() {
    let m = one(json!({"type": "unsupported", "errors": [{"code": 131051,
        "title": "Message type unknown", "message": "Message type unknown"}]}));
    assert_eq!(
        m.message.body,
        MessageBody::Unsupported {
            kind: "unsupported".into()
        }
    );
    let m = one(json!({"type": "hologram", "hologram": {"x": 1}}));
    assert_eq!(
        m.message.body,
        MessageBody::Unsupported {
            kind: "hologram".into()
        }
    );
    let m = one(
        json!({"type": "interactive", "interactive": {"type": "nfm_reply",
        "nfm_reply": {"response_json": "{}"}}}),
    );
    assert_eq!(
        m.message.body,
        MessageBody::Unsupported {
            kind: "interactive.nfm_reply".into()
        }
    );
    // An image without an id cannot be fetched: unsupported, not lost.
    let m = one(json!({"type": "image", "image": {"mime_type": "image/jpeg"}}));
    assert_eq!(
        m.message.body,
        MessageBody::Unsupported {
            kind: "image".into()
        }
    );
}

#[test]
fn statuses_with_errors_and_optional_pricing() {
    let body = call(vec![json!({"field": "messages", "value": {
    "messaging_product": "whatsapp",
    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
    "statuses": [
        {"id": "wamid.A", "status": "delivered", "timestamp": "1750857384",
         "recipient_id": "5516999990000", "biz_opaque_callback_data": "blazz-msg-1",
         "conversation": {"id": "c1", "origin": {"type": "service"}},
         "pricing": {"billable": true, "pricing_model": "PMP", "type": "regular", "category": "service"}},
        {"id": "wamid.B", "status": "failed", "timestamp": "1750857385",
         "recipient_id": "5516999990001",
         "errors": [{"code": 131047, "title": "Re-engagement message",
                     "message": "Re-engagement message",
                     "error_data": {"details": "More than 24 hours have passed"},
                     "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]},
        {"id": "wamid.C", "status": "read", "timestamp": "1750857386", "recipient_id": "5516999990002"}
    ]}})]);
    let changes = parse(&body).unwrap();
    assert_eq!(changes.len(), 3);
    let Change::Status(a) = &changes[0] else {
        panic!()
    };
    assert_eq!(a.wamid, "wamid.A");
    assert_eq!(a.receipt_status(), Some(ReceiptStatus::Delivered));
    assert_eq!(a.timestamp_ms, 1_750_857_384_000);
    assert_eq!(a.recipient, "+5516999990000");
    assert_eq!(a.callback_data.as_deref(), Some("blazz-msg-1"));
    assert!(a.pricing.is_some() && a.conversation.is_some());
    let Change::Status(b) = &changes[1] else {
        panic!()
    };
    assert_eq!(b.receipt_status(), Some(ReceiptStatus::Failed));
    assert_eq!(b.errors.len(), 1);
    assert_eq!(b.errors[0].code, 131047);
    assert_eq!(
        b.errors[0].details.as_deref(),
        Some("More than 24 hours have passed")
    );
    assert_eq!(b.errors[0].action(), ErrorAction::OutsideWindow);
    let Change::Status(c) = &changes[2] else {
        panic!()
    };
    assert_eq!(c.receipt_status(), Some(ReceiptStatus::Read));
    assert!(c.pricing.is_none() && c.conversation.is_none() && c.errors.is_empty());
}

#[test]
fn template_status_updates() {
    let body = call(vec![
        json!({"field": "message_template_status_update", "value": {
        "event": "REJECTED", "message_template_id": 594425479261596_u64,
        "message_template_name": "order_update", "message_template_language": "en_US",
        "reason": "INVALID_FORMAT"}}),
    ]);
    let changes = parse(&body).unwrap();
    let Change::TemplateStatus(t) = &changes[0] else {
        panic!("{changes:?}")
    };
    assert_eq!(t.waba_id, "102290129340398");
    assert_eq!(t.template_id, "594425479261596");
    assert_eq!(t.name, "order_update");
    assert_eq!(t.language, "en_US");
    assert_eq!(t.event, "REJECTED");
    assert_eq!(t.reason.as_deref(), Some("INVALID_FORMAT"));
    let approved = call(vec![
        json!({"field": "message_template_status_update", "value": {
        "event": "APPROVED", "message_template_id": 1, "message_template_name": "a",
        "message_template_language": "en", "reason": "NONE"}}),
    ]);
    let Change::TemplateStatus(t) = &parse(&approved).unwrap()[0] else {
        panic!()
    };
    assert_eq!(t.reason, None);
}

#[test]
fn every_entry_and_every_change_is_read() {
    let number = |id: &str, wamid: &str| {
        json!({"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "1555", "phone_number_id": id},
            "contacts": [{"profile": {"name": "A"}, "wa_id": "111111111"}],
            "messages": [{"from": "111111111", "id": wamid, "timestamp": "1",
                          "type": "text", "text": {"body": wamid}}]}})
    };
    let body = json!({"object": "whatsapp_business_account", "entry": [
        {"id": "W1", "changes": [number("P1", "m1"), number("P2", "m2"),
            {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}]},
        {"id": "W2", "changes": [number("P3", "m3"),
            {"field": "messages", "value": {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "1555", "phone_number_id": "P3"},
             "errors": [{"code": 130429, "title": "Rate limit hit", "message": "Rate limit hit"}]}}]}
    ]})
    .to_string()
    .into_bytes();
    let changes = parse(&body).unwrap();
    let ids: Vec<(String, String)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Message(m) => Some((
                m.phone_number_id.clone(),
                m.message.provider_message_id.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("P1".into(), "m1".into()),
            ("P2".into(), "m2".into()),
            ("P3".into(), "m3".into())
        ]
    );
    let errors = changes.iter().find_map(|c| match c {
        Change::Errors {
            phone_number_id,
            errors,
        } => Some((phone_number_id, errors)),
        _ => None,
    });
    let (p, errs) = errors.unwrap();
    assert_eq!(p, "P3");
    assert_eq!(errs[0].action(), ErrorAction::BackOff);
    assert_eq!(phone_number_ids(&body), vec!["P1", "P2", "P3"]);
    assert_eq!(business_account_ids(&body), vec!["W1", "W2"]);
}

#[test]
fn several_messages_in_one_change_keep_their_senders_names() {
    let body = call(vec![json!({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "1555", "phone_number_id": "P"},
        "contacts": [{"profile": {"name": "Ann"}, "wa_id": "1111111"},
                     {"profile": {"name": "Bob"}, "wa_id": "2222222"}],
        "messages": [
            {"from": "2222222", "id": "b", "timestamp": "2", "type": "text", "text": {"body": "x"}},
            {"from": "1111111", "id": "a", "timestamp": "1", "type": "text", "text": {"body": "y"}},
            {"id": "no-sender", "timestamp": "1", "type": "text", "text": {"body": "z"}}]}})]);
    let names: Vec<Option<String>> = parse(&body)
        .unwrap()
        .into_iter()
        .map(|c| match c {
            Change::Message(m) => m.contact_name,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, vec![Some("Bob".into()), Some("Ann".into())]);
}

#[test]
fn calls_that_are_not_whatsapp_json_are_refused() {
    assert!(matches!(parse(b"nope"), Err(WebhookError::NotJson(_))));
    assert!(matches!(
        parse(br#"{"object":"page","entry":[]}"#),
        Err(WebhookError::NotWhatsApp(o)) if o == "page"
    ));
    assert_eq!(
        parse(br#"{"object":"whatsapp_business_account"}"#).unwrap(),
        vec![]
    );
}
