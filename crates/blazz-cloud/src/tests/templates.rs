//! Templates: every page synced, created, deleted, sent with header, body
//! and button parameters, and parameters checked before a send.

use serde_json::{json, Value};

use super::{cloud, setup};
use crate::error::{CloudError, ErrorAction};
use crate::outbound::{CloudBody, MediaRef};
use crate::template::{
    placeholders, ButtonParam, HeaderParam, Param, ParamValue, Template, TemplateDraft,
    TemplateMessage,
};

fn order_update() -> Value {
    json!({"id": "594425479261596", "name": "order_update", "language": "en_US",
        "status": "APPROVED", "category": "UTILITY", "parameter_format": "POSITIONAL",
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1h"]}},
            {"type": "BODY", "text": "Hi {{1}}, order {{2}} ships {{2}} on {{3}}.",
             "example": {"body_text": [["Pablo", "A12", "May 1"]]}},
            {"type": "FOOTER", "text": "Blazz"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Stop"},
                {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}"}]}]})
}

fn template(v: Value) -> Template {
    serde_json::from_value(v).unwrap()
}

fn filled() -> TemplateMessage {
    TemplateMessage {
        name: "order_update".into(),
        language: "en_US".into(),
        header: Some(HeaderParam::Image(MediaRef::Id("555".into()))),
        body: vec![
            Param::text("Asha"),
            Param::text("A12"),
            Param {
                name: None,
                value: ParamValue::DateTime {
                    fallback: "May 1, 2026".into(),
                },
            },
        ],
        buttons: vec![
            ButtonParam::QuickReply {
                index: 0,
                payload: "STOP".into(),
            },
            ButtonParam::Url {
                index: 1,
                text: "A12".into(),
            },
        ],
    }
}

#[test]
fn placeholders_are_distinct_and_in_order() {
    assert_eq!(
        placeholders("Hi {{1}}, {{ 2 }} and {{1}} {{first_name}} {{x y}} {{"),
        vec!["1", "2", "first_name"]
    );
    let slots = template(order_update()).slots();
    assert_eq!(slots.header_format.as_deref(), Some("IMAGE"));
    assert_eq!(slots.body, vec!["1", "2", "3"]);
    assert_eq!(slots.buttons, vec![(1, vec!["1".to_string()])]);
}

#[test]
fn parameters_are_checked_for_count_order_header_and_buttons() {
    let t = template(order_update());
    filled().validate(&t).unwrap();

    let mut short = filled();
    short.body.pop();
    let err = short.validate(&t).unwrap_err().to_string();
    assert_eq!(
        err,
        "template \"order_update\" (en_US): takes 3 body variable(s) ({{1}}, {{2}}, {{3}}), got 2"
    );
    let mut blank = filled();
    blank.body[1] = Param::text(" ");
    assert!(blank
        .validate(&t)
        .unwrap_err()
        .to_string()
        .contains("body variable {{2}} is empty"));
    let mut no_header = filled();
    no_header.header = None;
    assert!(no_header
        .validate(&t)
        .unwrap_err()
        .to_string()
        .contains("needs its image header"));
    let mut wrong_header = filled();
    wrong_header.header = Some(HeaderParam::Text(Param::text("x")));
    assert!(wrong_header
        .validate(&t)
        .unwrap_err()
        .to_string()
        .contains("its header is image, not text"));
    let mut no_url = filled();
    no_url.buttons.pop();
    assert!(no_url
        .validate(&t)
        .unwrap_err()
        .to_string()
        .contains("URL button 1 needs its variable"));

    let mut gap = order_update();
    gap["components"][1]["text"] = json!("Hi {{1}} and {{3}}");
    let mut two = filled();
    two.body.pop();
    assert!(two
        .validate(&template(gap))
        .unwrap_err()
        .to_string()
        .contains("are not numbered 1 to 2"));

    let mut paused = order_update();
    paused["status"] = json!("PAUSED");
    assert!(filled()
        .validate(&template(paused))
        .unwrap_err()
        .to_string()
        .contains("is paused, not approved"));
}

#[test]
fn named_parameters_must_match_the_templates_names() {
    let t = template(
        json!({"id": "1", "name": "welcome", "language": "en", "status": "APPROVED",
        "parameter_format": "NAMED",
        "components": [{"type": "BODY", "text": "Hi {{first_name}}, code {{code}}"}]}),
    );
    let msg = |body: Vec<Param>| TemplateMessage {
        name: "welcome".into(),
        language: "en".into(),
        header: None,
        body,
        buttons: vec![],
    };
    msg(vec![
        Param::named("code", "42"),
        Param::named("first_name", "Asha"),
    ])
    .validate(&t)
    .unwrap();
    let err = msg(vec![
        Param::named("first_name", "Asha"),
        Param::named("coupon", "42"),
    ])
    .validate(&t);
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("has no body variable {{coupon}}"));
    let err = msg(vec![Param::text("Asha"), Param::text("42")]).validate(&t);
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("give each body value its name"));
    let json = msg(vec![Param::named("first_name", "Asha")])
        .to_json()
        .unwrap();
    assert_eq!(
        json["components"][0]["parameters"][0],
        json!({"type": "text", "text": "Asha", "parameter_name": "first_name"})
    );
}

#[tokio::test]
async fn a_template_goes_with_header_body_and_button_parameters() {
    let (fake, graph, creds) = setup().await;
    fake.add_template(&creds.business_account_id, order_update());
    graph
        .send(&creds, &cloud(CloudBody::Template(filled())))
        .await
        .unwrap();
    let body = &fake.sent()[0].body;
    assert_eq!(body["type"], "template");
    assert_eq!(
        body["template"],
        json!({"name": "order_update", "language": {"code": "en_US"}, "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"id": "555"}}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Asha"}, {"type": "text", "text": "A12"},
                {"type": "date_time", "date_time": {"fallback_value": "May 1, 2026"}}]},
            {"type": "button", "sub_type": "quick_reply", "index": "0",
             "parameters": [{"type": "payload", "payload": "STOP"}]},
            {"type": "button", "sub_type": "url", "index": "1",
             "parameters": [{"type": "text", "text": "A12"}]}]})
    );
}

#[tokio::test]
async fn metas_own_template_checks_answer_with_its_codes() {
    let (fake, graph, creds) = setup().await;
    fake.add_template(&creds.business_account_id, order_update());
    let mut short = filled();
    short.body.pop();
    let err = graph
        .send(&creds, &cloud(CloudBody::Template(short)))
        .await
        .unwrap_err();
    assert_eq!(err.graph().map(|g| g.code), Some(132000));
    assert_eq!(err.action(), ErrorAction::Permanent);
    let mut missing = filled();
    missing.name = "nope".into();
    let err = graph
        .send(&creds, &cloud(CloudBody::Template(missing)))
        .await
        .unwrap_err();
    assert_eq!(err.graph().map(|g| g.code), Some(132001));
}

#[tokio::test]
async fn sync_follows_every_page() {
    let (fake, graph, creds) = setup().await;
    fake.set_page_size(2);
    for i in 0..5 {
        fake.add_template(
            &creds.business_account_id,
            json!({"id": format!("{i}"),
            "name": format!("t{i}"), "language": "en_US", "status": "APPROVED",
            "category": "MARKETING", "components": [{"type": "BODY", "text": "Hi {{1}}"}]}),
        );
    }
    // Another business account's templates stay out.
    fake.add_template(
        "999",
        json!({"id": "x", "name": "other", "language": "en", "status": "APPROVED"}),
    );
    let all = graph.templates(&creds).await.unwrap();
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["t0", "t1", "t2", "t3", "t4"]);
    assert_eq!(all[0].slots().body, vec!["1"]);
    let pages = fake
        .requests()
        .into_iter()
        .filter(|r| r.contains("/message_templates"))
        .count();
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn templates_are_created_pending_and_deleted_by_name() {
    let (fake, graph, creds) = setup().await;
    let draft = TemplateDraft {
        name: "shipping_notice".into(),
        category: "UTILITY".into(),
        language: "en_US".into(),
        parameter_format: None,
        components: vec![json!({"type": "BODY", "text": "Hi {{1}}",
                                "example": {"body_text": [["Pablo"]]}})],
    };
    let created = graph.create_template(&creds, &draft).await.unwrap();
    assert_eq!(created.status.as_deref(), Some("PENDING"));
    assert_eq!(created.category.as_deref(), Some("UTILITY"));
    let stored = fake.templates(&creds.business_account_id);
    assert_eq!(stored[0]["name"], "shipping_notice");
    assert_eq!(
        stored[0]["components"][0]["example"]["body_text"][0][0],
        "Pablo"
    );
    let again = graph.create_template(&creds, &draft).await.unwrap_err();
    assert_eq!(again.graph().map(|g| g.code), Some(100));
    graph
        .delete_template(&creds, "shipping_notice", Some(&created.id))
        .await
        .unwrap();
    assert!(fake.templates(&creds.business_account_id).is_empty());
    assert_eq!(
        fake.deleted_templates(),
        vec![(
            creds.business_account_id.clone(),
            "shipping_notice".into(),
            Some(created.id)
        )]
    );
    let gone = graph.delete_template(&creds, "shipping_notice", None).await;
    assert!(matches!(gone, Err(CloudError::Graph(_))));
}
