//! The page every area answers with when it cannot show what was asked:
//! "not found", "not allowed", "the form expired". A title, a sentence and
//! the way back to the area.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::home::nav;
use super::layout::page;
use super::SignedIn;

/// Where the notice sends the member back to: the link and its words.
pub struct Back<'a> {
    pub href: &'a str,
    pub label: &'a str,
}

/// A notice page with `above` (an area's own navigation) before it.
pub fn notice(
    s: &SignedIn,
    status: StatusCode,
    title: &str,
    text: &str,
    back: Back<'_>,
    above: Markup,
) -> Response {
    let body = html! {
        (above)
        div class="card" role="alert" {
            h1 { (title) }
            p { (text) " " a href=(back.href) { (back.label) } }
        }
    };
    (status, page(s.tr, title, Some(nav(s)), body)).into_response()
}
