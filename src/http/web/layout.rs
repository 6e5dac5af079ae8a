//! The page shell and stylesheet shared by every page, and the embedded
//! live-update script.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

use crate::i18n::Tr;

const LIVE_JS: &str = include_str!("../../../assets/live.js");

/// The first hex digits of the script's SHA-256: part of its URL, so a
/// new build's script is a new URL and the old one may be cached forever.
static LIVE_JS_VERSION: LazyLock<String> =
    LazyLock::new(|| hex::encode(&Sha256::digest(LIVE_JS.as_bytes())[..6]));

pub fn live_js_path() -> String {
    format!("/assets/{}/live.js", *LIVE_JS_VERSION)
}

pub async fn live_js(Path(version): Path<String>) -> Response {
    if version != *LIVE_JS_VERSION {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        LIVE_JS,
    )
        .into_response()
}

/// What a page needs for live updates: the workspace's realtime key, the
/// session's CSRF token (for channel authorisation) and the channels.
pub struct Live {
    pub key: String,
    pub csrf: String,
    pub channels: Vec<String>,
}

/// The stylesheet: one file per area, concatenated at build time.
const CSS: &str = concat!(
    include_str!("../../../assets/css/base.css"),
    include_str!("../../../assets/css/inbox.css"),
    include_str!("../../../assets/css/contacts.css"),
    include_str!("../../../assets/css/settings.css"),
    include_str!("../../../assets/css/campaigns.css"),
);

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

/// A whole page in `tr`'s language. `nav` is shown in the header
/// (signed-in pages).
pub fn page(tr: Tr, title: &str, nav: Option<Markup>, body: Markup) -> Markup {
    live_page(tr, title, nav, None, body)
}

/// A page that loads the live script and subscribes to `live`'s channels.
pub fn live_page(
    tr: Tr,
    title: &str,
    nav: Option<Markup>,
    live: Option<&Live>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(tr.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Blazz" }
                link rel="stylesheet" href="/assets/app.css";
                @if let Some(live) = live {
                    meta name="csrf-token" content=(live.csrf);
                    meta name="blazz-realtime-key" content=(live.key);
                    meta name="blazz-channels" content=(live.channels.join(" "));
                    meta name="blazz-status-labels" content=(status_labels_json(tr));
                    meta name="blazz-script-text" content=(script_text_json(tr));
                    script src=(live_js_path()) defer {}
                }
            }
            body {
                header {
                    a class="brand" href="/" { "Blazz" }
                    @if let Some(nav) = nav { nav aria-label=(tr.t("nav.main")) { (nav) } }
                    @if live.is_some() {
                        span class="live muted" data-live-state="connecting" title=(tr.t("live.title"))
                            data-label-live=(tr.t("live.live"))
                            data-label-connecting=(tr.t("live.connecting"))
                            data-label-offline=(tr.t("live.offline")) { }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn error_box(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
    }
}

/// What a page says about a refusal: the catalogue's `errors.{code}`
/// when it has one, else the API's own message (English).
pub fn error_text(tr: Tr, e: &crate::error::ApiError) -> String {
    tr.get(&format!("errors.{}", e.code()))
        .map(str::to_string)
        .unwrap_or_else(|| e.to_string())
}

/// The same, with an area's own wording first (`{area}.errors.{code}`)
/// for the codes only its pages meet.
pub fn error_text_in(tr: Tr, area: &str, e: &crate::error::ApiError) -> String {
    tr.get(&format!("{area}.errors.{}", e.code()))
        .map(str::to_string)
        .unwrap_or_else(|| error_text(tr, e))
}

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// How a member's role reads on a page.
pub fn role_label(tr: Tr, role: blazz_domain::Role) -> &'static str {
    tr.t(&format!("roles.{}", role.as_str()))
}

/// How a number's session state reads on a page.
pub fn status_label(tr: Tr, status: blazz_domain::SessionState) -> &'static str {
    tr.t(&format!("status.{}", status.as_str()))
}

/// What the live script says in its own words.
fn script_text_json(tr: Tr) -> String {
    serde_json::json!({
        "done": tr.t("live.done"),
        "failed": tr.f("live.failed", &[("status", &"{status}")]),
        "unreachable": tr.t("live.unreachable"),
    })
    .to_string()
}

fn status_labels_json(tr: Tr) -> String {
    let map: serde_json::Map<String, serde_json::Value> = blazz_domain::SessionState::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), status_label(tr, *s).into()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// Inline SVG of a QR code for `data` (authenticator setup).
pub fn qr_svg(data: &str) -> Markup {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => PreEscaped(
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .build(),
        ),
        Err(_) => html! {},
    }
}
