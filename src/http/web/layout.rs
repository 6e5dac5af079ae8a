//! The page shell and stylesheet shared by every page, and the embedded
//! live-update script.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

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

const CSS: &str = r#"
:root { --fg:#1b1f23; --muted:#5b636b; --accent:#0a7d5a; --bg:#f6f7f8; --card:#fff; --err:#b42318; }
* { box-sizing: border-box; }
body { margin:0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:1rem; align-items:center; justify-content:space-between; padding:.75rem 1rem; background:var(--card); border-bottom:1px solid #e3e6e8; flex-wrap:wrap; }
header .brand { font-weight:700; color:var(--accent); text-decoration:none; }
main { max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
.card { background:var(--card); border:1px solid #e3e6e8; border-radius:8px; padding:1.5rem; margin-bottom:1.5rem; }
label { display:block; font-weight:600; margin:.75rem 0 .25rem; }
input, select { width:100%; padding:.55rem .6rem; font:inherit; border:1px solid #c8cdd1; border-radius:6px; }
button { margin-top:1rem; padding:.55rem 1rem; font:inherit; font-weight:600; color:#fff; background:var(--accent); border:0; border-radius:6px; cursor:pointer; }
button.link { background:none; color:var(--accent); padding:0; margin:0; }
button:focus-visible, input:focus-visible, a:focus-visible, select:focus-visible { outline:3px solid #7cc4ab; outline-offset:2px; }
.error { color:var(--err); background:#fef3f2; border:1px solid #fecdca; padding:.5rem .75rem; border-radius:6px; }
.muted { color:var(--muted); }
code, .secret { font-family: ui-monospace, monospace; word-break: break-all; }
ul.codes { columns: 2; font-family: ui-monospace, monospace; }
form.inline { display:inline; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:.5rem .25rem; border-bottom:1px solid #e3e6e8; vertical-align:top; }
.status { display:inline-block; padding:.1rem .5rem; border-radius:999px; font-size:.875rem; background:#eef0f2; }
.status[data-status=connected] { background:#dcf5e9; color:#05603a; }
.status[data-status=failed], .status[data-status=banned] { background:#fef3f2; color:var(--err); }
.status[data-status=qr_required], .status[data-status=authenticating] { background:#fff6db; color:#7a5a00; }
.qr svg { width:100%; max-width:16rem; height:auto; display:block; }
.pair-code { font: 700 2rem/1.2 ui-monospace, monospace; letter-spacing:.15em; }
.actions { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:flex-end; }
button.danger { background:var(--err); }
button.secondary { background:#eef0f2; color:var(--fg); }
.live::before { content:"\25CF"; margin-right:.25rem; }
.live[data-live-state=live]::before { color:var(--accent); }
.live[data-live-state=live]::after { content:"Live"; }
.live[data-live-state=connecting]::after { content:"Connecting"; }
.live[data-live-state=offline]::after { content:"Offline"; }
@media (max-width: 30rem) { main { margin: 1rem auto; } .card { padding: 1rem; } th.opt, td.opt { display:none; } }
"#;

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

/// A whole page. `nav` is shown in the header (signed-in pages).
pub fn page(title: &str, nav: Option<Markup>, body: Markup) -> Markup {
    live_page(title, nav, None, body)
}

/// A page that loads the live script and subscribes to `live`'s channels.
pub fn live_page(title: &str, nav: Option<Markup>, live: Option<&Live>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Blazz" }
                link rel="stylesheet" href="/assets/app.css";
                @if let Some(live) = live {
                    meta name="csrf-token" content=(live.csrf);
                    meta name="blazz-realtime-key" content=(live.key);
                    meta name="blazz-channels" content=(live.channels.join(" "));
                    meta name="blazz-status-labels" content=(status_labels_json());
                    script src=(live_js_path()) defer {}
                }
            }
            body {
                header {
                    a class="brand" href="/" { "Blazz" }
                    @if let Some(nav) = nav { nav aria-label="Main" { (nav) } }
                    @if live.is_some() {
                        span class="live muted" data-live-state="connecting" title="Live updates" { }
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

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// How a number's session state reads on a page.
pub fn status_label(status: blazz_domain::SessionState) -> &'static str {
    use blazz_domain::SessionState as S;
    match status {
        S::Initializing => "Starting",
        S::QrRequired => "Waiting for a scan",
        S::Authenticating => "Linking",
        S::Connected => "Connected",
        S::Reconnecting => "Reconnecting",
        S::LoggedOut => "Not linked",
        S::Failed => "Failed",
        S::Banned => "Banned",
    }
}

fn status_labels_json() -> String {
    let map: serde_json::Map<String, serde_json::Value> = blazz_domain::SessionState::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), status_label(*s).into()))
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
