//! The composer: text (any Unicode, emoji included), an attachment (stored
//! through the media store like `POST /media`, then sent as an image,
//! video, audio, document or sticker), a quoted reply, canned replies to
//! insert and templates with variables. Posting works without the script
//! (POST, then back to the chat); with it the form posts in the background.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::Response;
use axum::Form;
use blazz_domain::{template, ChatId, MessageId, Role};
use blazz_store::chats::Chat;
use blazz_store::{canned, contacts, messages};
use maud::{html, Markup};

use super::actions::answer;
use super::conversation::{ConvQuery, Problems};
use super::{check_csrf, Ctx};
use crate::error::ApiError;
use crate::http::api::canned::contact_values;
use crate::http::extract::Path;
use crate::http::web::layout::{csrf_field, error_box};
use crate::http::web::SignedIn;
use crate::inbox::body::Body;
use crate::inbox::send::{self, SendRequest};
use crate::media::{MediaKind, Origin};
use crate::state::AppState;

/// Canned replies of the workspace, each filled with the contact's details.
async fn canned_for(
    state: &AppState,
    ctx: &Ctx,
    chat: &Chat,
) -> Result<Vec<(canned::CannedReply, String)>, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    let ws = ctx.workspace.id;
    let values: HashMap<String, String> = contacts::find(&mut conn, ws, chat.contact_id)
        .await?
        .as_ref()
        .map(contact_values)
        .unwrap_or_default();
    Ok(canned::list(&mut conn, ws, None)
        .await?
        .into_iter()
        .map(|r| {
            let text = template::render(&r.body, &values);
            (r, text)
        })
        .collect())
}

pub async fn form(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    chat: &Chat,
    q: &ConvQuery,
    problems: &Problems,
) -> Result<Markup, ApiError> {
    let tr = s.tr;
    let base = format!("/inbox/{}", chat.id);
    let replies = canned_for(state, ctx, chat).await?;
    let reply = match q.reply.as_deref().and_then(|r| r.parse::<MessageId>().ok()) {
        Some(id) => {
            let mut conn = state.db.pool.acquire().await?;
            messages::find(&mut conn, ctx.workspace.id, id)
                .await?
                .filter(|m| m.chat_id == chat.id)
        }
        None => None,
    };
    let wanted = |name: &Option<String>| {
        name.as_deref()
            .map(|n| n.trim().trim_start_matches('/').to_lowercase())
    };
    let canned_text = wanted(&q.canned)
        .and_then(|w| replies.iter().find(|(r, _)| r.shortcut == w))
        .map(|(_, t)| t.clone());
    let text = problems.text.clone().or(canned_text).unwrap_or_default();
    let chosen = wanted(&q.template).and_then(|w| replies.iter().find(|(r, _)| r.shortcut == w));
    Ok(html! {
        section id="composer" class="composer" aria-label=(tr.t("inbox.composer")) {
            (error_box(problems.composer.as_deref()))
            form method="post" action=(format!("{base}/send")) enctype="multipart/form-data"
                data-async data-reset data-done=(tr.t("inbox.sent")) {
                (csrf_field(&s.csrf))
                @if let Some(r) = &reply {
                    div class="reply-banner" data-clear-on-sent {
                        input type="hidden" name="reply_to" value=(r.id);
                        span { (tr.t("inbox.replying_to")) " " }
                        q { (r.text.clone().unwrap_or_else(|| r.kind.clone())) }
                        " " a href=(base.clone()) { (tr.t("inbox.cancel_reply")) }
                    }
                }
                label for="composer-text" { (tr.t("inbox.message")) }
                textarea id="composer-text" name="text" rows="3" maxlength="4096" { (text) }
                div class="composer-row" {
                    div class="composer-file" {
                        label for="composer-file" { (tr.t("inbox.attach")) }
                        input id="composer-file" name="file" type="file";
                    }
                    button type="submit" { (tr.t("inbox.send")) }
                }
                p data-async-result role="status" {}
            }
            details class="composer-extra" {
                summary { (tr.t("inbox.canned")) }
                @if replies.is_empty() {
                    p class="muted" { (tr.t("inbox.canned_empty")) }
                } @else {
                    form method="get" action=(base.clone()) data-insert-into="composer-text" {
                        label for="canned-pick" { (tr.t("inbox.canned_pick")) }
                        select id="canned-pick" name="canned" {
                            @for (r, t) in &replies {
                                option value=(r.shortcut) data-text=(t) { "/" (r.shortcut) " — " (blazz_domain::message::preview(t, 60)) }
                            }
                        }
                        button type="submit" class="secondary" { (tr.t("inbox.canned_insert")) }
                    }
                }
            }
            details class="composer-extra" open[chosen.is_some()] {
                summary { (tr.t("inbox.templates")) }
                @if replies.is_empty() {
                    p class="muted" { (tr.t("inbox.canned_empty")) }
                } @else {
                    form method="get" action=(base.clone()) {
                        label for="template-pick" { (tr.t("inbox.template_pick")) }
                        select id="template-pick" name="template" {
                            @for (r, _) in &replies {
                                option value=(r.shortcut) selected[chosen.is_some_and(|(c, _)| c.id == r.id)] { "/" (r.shortcut) }
                            }
                        }
                        button type="submit" class="secondary" { (tr.t("inbox.template_choose")) }
                    }
                    @if let Some((r, _)) = chosen {
                        form method="post" action=(format!("{base}/template")) data-async data-done=(tr.t("inbox.sent")) {
                            (csrf_field(&s.csrf))
                            input type="hidden" name="template" value=(r.shortcut);
                            p class="muted template-body" { (r.body) }
                            @let vars: Vec<String> = template::variables(&r.body).into_iter().filter(|v| !v.starts_with("contact.")).collect();
                            @if vars.is_empty() { p class="muted" { (tr.t("inbox.template_no_vars")) } }
                            @for v in &vars {
                                label for=(format!("var-{v}")) { (v) }
                                input id=(format!("var-{v}")) name=(format!("var.{v}")) type="text";
                            }
                            button type="submit" { (tr.t("inbox.template_send")) }
                            p data-async-result role="status" {}
                        }
                    }
                }
            }
        }
    })
}

/// What the composer posted.
#[derive(Default)]
struct Posted {
    csrf: String,
    text: String,
    reply_to: Option<String>,
    /// (type, file name, bytes)
    file: Option<(String, Option<String>, Vec<u8>)>,
}

async fn read_form(state: &AppState, req: Request) -> Result<Posted, ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid("invalid_body", e.body_text()))?;
        let mut p = Posted::default();
        for (k, v) in fields {
            match k.as_str() {
                "csrf" => p.csrf = v,
                "text" => p.text = v,
                "reply_to" => p.reply_to = Some(v),
                _ => {}
            }
        }
        return Ok(p);
    }
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::invalid("invalid_body", e.body_text())
    };
    let max = MediaKind::ALL
        .iter()
        .map(|k| state.media.max_bytes(*k))
        .max()
        .unwrap_or(0);
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::invalid("invalid_body", e.body_text()))?;
    let mut p = Posted::default();
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let mime = field.content_type().unwrap_or_default().to_string();
                let name = field.file_name().map(str::to_string);
                let mut data = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if (data.len() + chunk.len()) as u64 > max {
                        return Err(crate::media::MediaError::TooLarge {
                            kind: MediaKind::Document,
                            max,
                        }
                        .into());
                    }
                    data.extend_from_slice(&chunk);
                }
                // A form without a chosen file still sends an empty part.
                if !data.is_empty() {
                    p.file = Some((mime, name.filter(|n| !n.is_empty()), data));
                }
            }
            "csrf" => p.csrf = field.text().await.map_err(bad)?,
            "text" => p.text = field.text().await.map_err(bad)?,
            "reply_to" => p.reply_to = Some(field.text().await.map_err(bad)?),
            _ => {}
        }
    }
    Ok(p)
}

/// The kind a file is sent as, by its type.
fn kind_of(mime: &str) -> MediaKind {
    let essence = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "image/jpeg" | "image/png" => MediaKind::Image,
        "image/webp" => MediaKind::Sticker,
        m if m.starts_with("video/") => MediaKind::Video,
        m if m.starts_with("audio/") => MediaKind::Audio,
        _ => MediaKind::Document,
    }
}

/// The bodies to send: the file (with the text as its caption when it
/// takes one) or the text alone.
async fn bodies(state: &AppState, ctx: &Ctx, p: &mut Posted) -> Result<Vec<Body>, ApiError> {
    let text = Some(p.text.trim().to_string()).filter(|t| !t.is_empty());
    let Some((mime, name, data)) = p.file.take() else {
        return Ok(vec![Body::Text {
            text: text.unwrap_or_default(),
        }]);
    };
    ctx.caller.require(Role::Agent)?;
    let kind = kind_of(&mime);
    let media = state
        .media
        .save(
            &state.db,
            ctx.workspace.id,
            kind,
            &mime,
            name.as_deref(),
            data,
            Origin::Upload,
        )
        .await?;
    let media_id = Some(media.id);
    Ok(match kind {
        MediaKind::Image => vec![Body::Image {
            media_id,
            caption: text,
        }],
        MediaKind::Video => vec![Body::Video {
            media_id,
            caption: text,
        }],
        MediaKind::Document => vec![Body::Document {
            media_id,
            filename: media.filename,
            caption: text,
        }],
        MediaKind::Audio | MediaKind::Sticker => {
            let file = if kind == MediaKind::Audio {
                Body::Audio { media_id }
            } else {
                Body::Sticker { media_id }
            };
            let mut all = vec![file];
            all.extend(text.map(|text| Body::Text { text }));
            all
        }
    })
}

pub async fn send(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<ChatId>,
    req: Request,
) -> Result<Response, ApiError> {
    let mut posted = read_form(&state, req).await?;
    check_csrf(&s, &posted.csrf)?;
    let ctx = Ctx::of(&s)?;
    let typed = posted.text.clone();
    let reply_to = match posted
        .reply_to
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => Ok(None),
        Some(r) => r
            .parse::<MessageId>()
            .map(Some)
            .map_err(|_| ApiError::invalid("invalid_id", "reply_to is not an id")),
    };
    let done = async {
        let reply_to = reply_to?;
        let mut reply_to = reply_to;
        for body in bodies(&state, &ctx, &mut posted).await? {
            let req = SendRequest {
                chat_id: Some(id),
                account_id: None,
                account_group: None,
                to: None,
                body,
                reply_to: reply_to.take(),
            };
            send::accept(&state, &ctx.caller, req, None).await?;
        }
        Ok::<(), ApiError>(())
    }
    .await;
    answer(&state, &s, &ctx, id, done, Some(typed)).await
}

/// Sends a canned reply as a template: its `{{variables}}` filled from the
/// contact and the form's `var.{name}` fields.
pub async fn template(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<ChatId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    check_csrf(&s, &field("csrf"))?;
    let ctx = Ctx::of(&s)?;
    let variables: BTreeMap<String, String> = fields
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("var.")?;
            Some((name.to_string(), v.clone())).filter(|_| !v.trim().is_empty())
        })
        .collect();
    let req = SendRequest {
        chat_id: Some(id),
        account_id: None,
        account_group: None,
        to: None,
        body: Body::Template {
            template: field("template"),
            language: None,
            variables,
            text: None,
        },
        reply_to: None,
    };
    let done = send::accept(&state, &ctx.caller, req, None).await;
    answer(&state, &s, &ctx, id, done, Some(String::new())).await
}
