//! `/settings`: what can be set, as far as the member's role allows.

use axum::response::{IntoResponse, Response};
use maud::html;

use super::{role_of, subnav, Section};
use crate::http::web::home::nav;
use crate::http::web::layout::{page, role_label};
use crate::http::web::SignedIn;

pub async fn show(s: SignedIn) -> Response {
    let tr = s.tr;
    let role = role_of(&s);
    let body = html! {
        (subnav(&s, None))
        div class="card" {
            h1 { (tr.t("nav.settings")) }
            @if let Some((ws, r)) = &s.current {
                p class="muted" { (tr.f("settings.home.you_are", &[("role", &role_label(tr, *r)), ("workspace", &ws.name)])) }
            } @else {
                p class="muted" { (tr.t("settings.home.no_workspace")) }
            }
            dl class="settings-index" {
                @for sec in Section::ALL.iter().filter(|x| x.visible(role)) {
                    dt { a href=(sec.href()) { (sec.label(&s)) } }
                    dd class="muted" { (sec.about(&s)) }
                }
            }
        }
    };
    page(tr, tr.t("nav.settings"), Some(nav(&s)), body).into_response()
}
