//! The page shell and stylesheet shared by every page.

use axum::http::header;
use axum::response::IntoResponse;
use maud::{html, Markup, PreEscaped, DOCTYPE};

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
@media (max-width: 30rem) { main { margin: 1rem auto; } .card { padding: 1rem; } }
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
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Blazz" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                header {
                    a class="brand" href="/" { "Blazz" }
                    @if let Some(nav) = nav { nav aria-label="Main" { (nav) } }
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
