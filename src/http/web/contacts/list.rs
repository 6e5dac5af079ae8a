//! `/contacts`: the workspace's contacts, newest first, searchable by name
//! or phone and filtered by tag, a page at a time; with nothing yet, what
//! to do first.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use blazz_store::contacts::{self, Contact, Filter};
use maud::{html, Markup};
use serde::Deserialize;

use super::{caller, no_workspace};
use crate::error::ApiError;
use crate::http::web::home::nav;
use crate::http::web::layout::page;
use crate::http::web::SignedIn;
use crate::state::AppState;

const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    cursor: String,
    /// After an import: how many were added and updated.
    imported: Option<u64>,
    updated: Option<u64>,
    /// After a delete.
    deleted: Option<String>,
}

/// The list's address with these search terms (and a cursor).
fn href(q: &str, tag: &str, cursor: Option<&str>) -> String {
    let mut parts = Vec::new();
    for (k, v) in [("q", q), ("tag", tag), ("cursor", cursor.unwrap_or(""))] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", urlencoding(v)));
        }
    }
    if parts.is_empty() {
        "/contacts".into()
    } else {
        format!("/contacts?{}", parts.join("&"))
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn urlencoding(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A contact's tags as links that filter the list by each.
pub fn tag_links(tags: &[String]) -> Markup {
    html! {
        @for t in tags {
            a class="tag" href=(href("", t, None)) { (t) } " "
        }
    }
}

fn rows(s: &SignedIn, found: &[Contact]) -> Markup {
    let tr = s.tr;
    html! {
        table class="contacts" {
            thead { tr {
                th { (tr.t("contacts.name")) }
                th { (tr.t("contacts.phone")) }
                th class="opt" { (tr.t("contacts.tags")) }
            } }
            tbody {
                @for c in found {
                    tr {
                        td {
                            a href=(format!("/contacts/{}", c.id)) {
                                (c.name.as_deref().unwrap_or(tr.t("contacts.no_name")))
                            }
                            @if c.opted_out_at.is_some() {
                                " " span class="status opted-out" { (tr.t("contacts.opted_out_badge")) }
                            }
                        }
                        td { span class="phone" { (c.phone) } }
                        td class="opt" { (tag_links(&c.tags)) }
                    }
                }
            }
        }
    }
}

fn empty_state(s: &SignedIn, searching: bool) -> Markup {
    let tr = s.tr;
    html! {
        @if searching {
            p data-testid="no-match" { (tr.t("contacts.no_match")) " " a href="/contacts" { (tr.t("contacts.show_all")) } }
        } @else {
            div data-testid="empty" {
                p { (tr.t("contacts.empty.intro")) }
                ul {
                    li { a href="/contacts/new" { (tr.t("contacts.empty.add")) } }
                    li { a href="/contacts/import" { (tr.t("contacts.empty.import")) } }
                    li { (tr.t("contacts.empty.inbound")) }
                }
            }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let tr = s.tr;
    let search = q.q.trim().to_string();
    let tag = q.tag.trim().to_lowercase();
    // A cursor from another list (or made up) starts from the top.
    let before = q.cursor.parse().ok();
    let filter = Filter {
        search: Some(search.clone()).filter(|s| !s.is_empty()),
        tag: Some(tag.clone()).filter(|t| !t.is_empty()),
        opted_out: None,
        before,
        limit: PAGE,
    };
    let found = {
        let mut conn = state.db.pool.acquire().await?;
        contacts::list(&mut conn, caller.workspace_id, &filter).await?
    };
    let next = (found.len() as i64 == PAGE)
        .then(|| found.last().map(|c| c.id.to_string()))
        .flatten();
    let searching = filter.search.is_some() || filter.tag.is_some() || before.is_some();
    let body = html! {
        div class="card" {
            div class="contacts-head" {
                h1 { (tr.t("contacts.title")) }
                div class="actions" {
                    a class="button" href="/contacts/new" { (tr.t("contacts.add")) }
                    a class="button secondary" href="/contacts/import" { (tr.t("contacts.import.action")) }
                    a class="button secondary" href="/contacts/export" download="contacts.csv" { (tr.t("contacts.export")) }
                }
            }
            @if let Some(n) = q.imported {
                p class="notice" role="status" data-testid="imported" {
                    (tr.f("contacts.import.done", &[("created", &n), ("updated", &q.updated.unwrap_or(0))]))
                }
            }
            @if q.deleted.is_some() {
                p class="notice" role="status" { (tr.t("contacts.deleted")) }
            }
            form class="contacts-search" method="get" action="/contacts" role="search" {
                div {
                    label for="contacts-q" { (tr.t("contacts.search")) }
                    input id="contacts-q" name="q" type="search" value=(search) placeholder=(tr.t("contacts.search_hint"));
                }
                div {
                    label for="contacts-tag" { (tr.t("contacts.tag_filter")) }
                    input id="contacts-tag" name="tag" value=(tag) placeholder=(tr.t("contacts.tag_hint"));
                }
                div { button type="submit" { (tr.t("contacts.search_button")) } }
            }
            @if tag.is_empty() && !search.is_empty() && !search.contains(char::is_whitespace) && search.chars().count() <= 50 {
                p class="muted" data-testid="as-tag" {
                    a href=(href("", &search.to_lowercase(), None)) {
                        (tr.f("contacts.search_as_tag", &[("tag", &search.to_lowercase())]))
                    }
                }
            }
            @if !tag.is_empty() {
                p class="muted" {
                    (tr.f("contacts.filtered_by_tag", &[("tag", &tag)])) " "
                    a href=(href(&search, "", None)) { (tr.t("contacts.clear_tag")) }
                }
            }
            @if found.is_empty() {
                (empty_state(&s, searching))
            } @else {
                (rows(&s, &found))
            }
            @if let Some(cursor) = &next {
                p { a rel="next" href=(href(&search, &tag, Some(cursor))) { (tr.t("contacts.next_page")) } }
            }
        }
    };
    Ok(page(tr, tr.t("contacts.title"), Some(nav(&s)), body).into_response())
}
