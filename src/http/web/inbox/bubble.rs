//! One message as a bubble: its body (text, media previews, location and
//! contact cards), the message it quotes, reactions to it, and for
//! outbound messages the tick of its status with a text alternative.

use std::collections::HashMap;

use blazz_domain::{ChatId, Direction, MessageId, MessageStatus, WorkspaceId};
use blazz_store::messages::{self, Message};
use chrono::{DateTime, Utc};
use maud::{html, Markup};

use crate::error::ApiError;
use crate::i18n::Tr;
use crate::inbox::body::Body;
use crate::inbox::view::body_of;
use crate::state::AppState;

/// A short time: the hour today, the date before (UTC).
pub fn when(ms: i64) -> String {
    let Some(t) = DateTime::<Utc>::from_timestamp_millis(ms) else {
        return String::new();
    };
    if t.date_naive() == Utc::now().date_naive() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%Y-%m-%d").to_string()
    }
}

/// How many recent messages are read to find reactions and quotes.
const CONTEXT: i64 = 200;

/// What bubbles need beyond their own message: the messages they quote
/// and the reactions to them (the last of each side wins; an empty emoji
/// takes a reaction back).
#[derive(Default)]
pub struct Around {
    quoted: HashMap<String, Message>,
    reactions: HashMap<String, Vec<(Direction, String)>>,
}

impl Around {
    /// Reads the chat's recent messages (and any quoted one older than
    /// them) for `shown`.
    pub async fn load(
        state: &AppState,
        ws: WorkspaceId,
        chat: ChatId,
        shown: &[Message],
    ) -> Result<Self, ApiError> {
        let mut conn = state.db.pool.acquire().await?;
        let mut recent = messages::in_chat(&mut conn, ws, chat, None, CONTEXT).await?;
        recent.reverse();
        let mut around = Around::default();
        for m in recent.iter().chain(shown.iter()) {
            around.quoted.insert(m.id.to_string(), m.clone());
        }
        let mut seen = std::collections::HashSet::new();
        for m in recent.iter().filter(|m| m.kind == "reaction") {
            if !seen.insert(m.id) {
                continue;
            }
            if let Some(Body::Reaction {
                message_id: Some(target),
                emoji,
            }) = body_of(m)
            {
                let list = around.reactions.entry(target).or_default();
                list.retain(|(d, _)| *d != m.direction);
                if !emoji.is_empty() {
                    list.push((m.direction, emoji));
                }
            }
        }
        for m in shown {
            let Some(r) = &m.reply_to_id else { continue };
            if around.quoted.contains_key(r) {
                continue;
            }
            if let Ok(id) = r.parse::<MessageId>() {
                if let Some(q) = messages::find(&mut conn, ws, id).await? {
                    around.quoted.insert(r.clone(), q);
                }
            }
        }
        Ok(around)
    }
}

fn media_url(id: &str) -> String {
    format!("/api/v1/media/{id}")
}

fn preview(m: &Message) -> String {
    body_of(m)
        .map(|b| b.preview())
        .unwrap_or_else(|| m.text.clone().unwrap_or_default())
}

fn body(tr: Tr, m: &Message) -> Markup {
    let Some(b) = body_of(m) else {
        return html! { p class="muted" { (tr.t("inbox.msg.unknown")) } };
    };
    let caption = |c: &Option<String>| html! { @if let Some(c) = c { p class="msg-text" { (c) } } };
    match &b {
        Body::Text { text } => html! { p class="msg-text" { (text) } },
        Body::Template { text, template, .. } => html! {
            p class="msg-text" { (text.as_deref().unwrap_or(template)) }
        },
        Body::Image {
            media_id,
            caption: c,
        } => html! {
            @if let Some(id) = media_id {
                a href=(media_url(id)) class="msg-media" {
                    img src=(media_url(id)) alt=(c.as_deref().unwrap_or(tr.t("inbox.msg.image"))) loading="lazy";
                }
            } @else { p class="muted" { (tr.t("inbox.msg.image_missing")) } }
            (caption(c))
        },
        Body::Sticker { media_id } => html! {
            @if let Some(id) = media_id { img class="msg-sticker" src=(media_url(id)) alt=(tr.t("inbox.msg.sticker")) loading="lazy"; }
        },
        Body::Video {
            media_id,
            caption: c,
        } => html! {
            @if let Some(id) = media_id { a class="msg-file" href=(media_url(id)) download { (tr.t("inbox.msg.video")) } }
            (caption(c))
        },
        Body::Audio { media_id } => html! {
            @if let Some(id) = media_id { a class="msg-file" href=(media_url(id)) download { (tr.t("inbox.msg.audio")) } }
        },
        Body::Document {
            media_id,
            filename,
            caption: c,
        } => html! {
            @if let Some(id) = media_id {
                a class="msg-file" href=(media_url(id)) download {
                    (tr.f("inbox.msg.download", &[("name", &filename.as_deref().unwrap_or(tr.t("inbox.msg.document")))]))
                }
            }
            (caption(c))
        },
        Body::Location {
            latitude,
            longitude,
            name,
            address,
        } => html! {
            div class="msg-card" {
                strong { (tr.t("inbox.msg.location")) } " "
                @if let Some(n) = name { (n) }
                @if let Some(a) = address { br; span class="muted" { (a) } }
                br;
                a href=(format!("https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=16/{latitude}/{longitude}"))
                    rel="noopener noreferrer" target="_blank" { (format!("{latitude:.5}, {longitude:.5}")) }
            }
        },
        Body::Contact { name, phones } => html! {
            div class="msg-card" {
                strong { (tr.t("inbox.msg.contact")) } " " (name)
                ul { @for p in phones { li { a href=(format!("tel:{p}")) { (p) } } } }
            }
        },
        Body::Reaction { emoji, .. } => html! { p class="msg-text" { (emoji) } },
    }
}

fn tick(tr: Tr, m: &Message) -> Markup {
    if m.direction != Direction::Out {
        return html! {};
    }
    let (mark, key) = match m.status {
        MessageStatus::Pending => ("\u{1F552}", "inbox.tick.pending"),
        MessageStatus::Sent => ("\u{2713}", "inbox.tick.sent"),
        MessageStatus::Delivered => ("\u{2713}\u{2713}", "inbox.tick.delivered"),
        MessageStatus::Read => ("\u{2713}\u{2713}", "inbox.tick.read"),
        MessageStatus::Failed => ("!", "inbox.tick.failed"),
        MessageStatus::Received => return html! {},
    };
    html! {
        span class="tick" data-tick=(m.status.as_str()) title=(tr.t(key)) {
            span aria-hidden="true" { (mark) }
            span class="sr-only" { (tr.t(key)) }
        }
    }
}

/// The bubble of `m` (a list item with the message's id and order).
pub fn bubble(tr: Tr, chat: ChatId, m: &Message, around: &Around) -> Markup {
    let dir = m.direction.as_str();
    let quoted = m.reply_to_id.as_ref().and_then(|r| around.quoted.get(r));
    let reactions = around.reactions.get(&m.id.to_string());
    html! {
        li id=(format!("m-{}", m.id)) class=(format!("msg msg-{dir}")) data-seq=(m.seq) data-status=(m.status.as_str()) {
            @if m.reply_to_id.is_some() {
                blockquote class="msg-quote" {
                    span class="sr-only" { (tr.t("inbox.msg.replying_to")) " " }
                    @match quoted {
                        Some(q) => { (preview(q)) }
                        None => { span class="muted" { (tr.t("inbox.msg.quoted_missing")) } }
                    }
                }
            }
            (body(tr, m))
            @if let Some(r) = reactions.filter(|r| !r.is_empty()) {
                p class="msg-reactions" aria-label=(tr.t("inbox.msg.reactions")) {
                    @for (_, e) in r { span { (e) } }
                }
            }
            p class="msg-foot muted" {
                @if m.direction == Direction::Out {
                    @if let Some(a) = &m.author { span class="msg-author" { (a) } " · " }
                }
                time datetime=(crate::http::api::rfc3339(m.sent_at)) { (when(m.sent_at)) }
                " " (tick(tr, m))
                " " a class="msg-reply" href=(format!("/inbox/{chat}?reply={}#composer", m.id)) { (tr.t("inbox.msg.reply")) }
            }
            @if m.status == MessageStatus::Failed {
                @if let Some(e) = &m.error { p class="msg-error" { (e) } }
            }
        }
    }
}

/// Bubbles of `shown` (oldest first), reactions left out: they show on
/// the message they react to.
pub fn bubbles(tr: Tr, chat: ChatId, shown: &[Message], around: &Around) -> Markup {
    html! {
        @for m in shown.iter().filter(|m| m.kind != "reaction") { (bubble(tr, chat, m, around)) }
    }
}
