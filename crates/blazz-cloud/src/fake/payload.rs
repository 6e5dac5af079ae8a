//! Webhook calls in Meta's shape (contracts A4, A5), signed and posted to
//! the callback URL the test set.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{FakeNumber, Shared};
use crate::webhook::{sign, SIGNATURE_HEADER};

fn now_secs() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}

/// A `messages` change's envelope around `value`.
fn envelope(waba_id: &str, field: &str, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": waba_id,
            "changes": [{"field": field, "value": value}],
        }],
    })
}

fn metadata(number: &FakeNumber) -> Value {
    json!({
        "display_phone_number": number.display_phone_number,
        "phone_number_id": number.creds.phone_number_id,
    })
}

/// A call carrying contacts' messages to `number`.
pub fn messages_payload(number: &FakeNumber, contacts: Vec<Value>, messages: Vec<Value>) -> Value {
    envelope(
        &number.creds.business_account_id,
        "messages",
        json!({
            "messaging_product": "whatsapp",
            "metadata": metadata(number),
            "contacts": contacts,
            "messages": messages,
        }),
    )
}

/// A call carrying statuses of messages `number` sent.
pub fn statuses_payload(number: &FakeNumber, statuses: Vec<Value>) -> Value {
    envelope(
        &number.creds.business_account_id,
        "messages",
        json!({
            "messaging_product": "whatsapp",
            "metadata": metadata(number),
            "statuses": statuses,
        }),
    )
}

pub fn template_status_payload(
    waba_id: &str,
    template_id: &str,
    name: &str,
    language: &str,
    event: &str,
    reason: Option<&str>,
) -> Value {
    // Meta sends the template id as a number.
    let id: Value = template_id
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(template_id));
    envelope(
        waba_id,
        "message_template_status_update",
        json!({
            "event": event,
            "message_template_id": id,
            "message_template_name": name,
            "message_template_language": language,
            "reason": reason.unwrap_or("NONE"),
        }),
    )
}

/// One status item; pricing on `sent` and `delivered`/`read` as Meta does.
pub(crate) fn status_item(wamid: &str, recipient: &str, status: &str, errors: Vec<Value>) -> Value {
    let mut s = json!({
        "id": wamid,
        "status": status,
        "timestamp": now_secs(),
        "recipient_id": recipient.trim_start_matches('+'),
    });
    if status != "failed" {
        s["pricing"] = json!({"billable": true, "pricing_model": "PMP",
            "type": "regular", "category": "utility"});
    }
    if !errors.is_empty() {
        s["errors"] = Value::Array(errors);
    }
    s
}

fn number(shared: &Shared, phone_number_id: &str) -> Result<FakeNumber, String> {
    shared
        .lock()
        .numbers
        .iter()
        .find(|n| n.creds.phone_number_id == phone_number_id)
        .cloned()
        .ok_or_else(|| format!("the fake has no number {phone_number_id}"))
}

/// Posts a body to the callback URL; its HTTP status.
pub(crate) async fn post(
    shared: &Shared,
    body: Vec<u8>,
    signature: Option<String>,
) -> Result<u16, String> {
    let url = shared
        .lock()
        .webhook_url
        .clone()
        .ok_or("no webhook URL is set")?;
    let mut req = shared
        .http
        .post(url)
        .header("Content-Type", "application/json")
        .body(body);
    if let Some(sig) = signature {
        req = req.header(SIGNATURE_HEADER, sig);
    }
    let response = req.send().await.map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

async fn post_signed(shared: &Shared, number: &FakeNumber, payload: Value) -> Result<u16, String> {
    let raw = payload.to_string().into_bytes();
    let sig = sign(&number.creds.app_secret, &raw);
    post(shared, raw, Some(sig)).await
}

pub(crate) async fn deliver_inbound(
    shared: &Shared,
    phone_number_id: &str,
    from: &str,
    name: &str,
    mut message: Value,
) -> Result<(String, u16), String> {
    let number = number(shared, phone_number_id)?;
    let wa_id = from.trim_start_matches('+').to_string();
    let wamid = match message.get("id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => {
            let n = shared.lock().next_id();
            format!("wamid.FAKEIN{n:012}")
        }
    };
    let obj = message
        .as_object_mut()
        .ok_or("the message must be a JSON object")?;
    obj.entry("id").or_insert(json!(wamid));
    obj.entry("from").or_insert(json!(wa_id));
    obj.entry("timestamp").or_insert(json!(now_secs()));
    let contacts = vec![json!({"profile": {"name": name}, "wa_id": wa_id})];
    let payload = messages_payload(&number, contacts, vec![message]);
    let status = post_signed(shared, &number, payload).await?;
    Ok((wamid, status))
}

pub(crate) async fn deliver_status(
    shared: &Shared,
    phone_number_id: &str,
    wamid: &str,
    recipient: &str,
    status: &str,
    errors: Vec<Value>,
) -> Result<u16, String> {
    let number = number(shared, phone_number_id)?;
    let payload = statuses_payload(&number, vec![status_item(wamid, recipient, status, errors)]);
    post_signed(shared, &number, payload).await
}
