//! A contact's chats on its page, each a link to the inbox.

use blazz_store::accounts;
use blazz_store::chats::{self, Chat, Filter};
use blazz_store::contacts::Contact;
use maud::{html, Markup};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::web::SignedIn;
use crate::state::AppState;

/// The contact's chats: the inbox has no "by contact" filter, so this
/// searches by the phone and keeps this contact's own.
pub async fn chats_of(
    state: &AppState,
    caller: &Caller,
    c: &Contact,
) -> Result<Vec<(Chat, String)>, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    let filter = Filter {
        search: Some(c.phone.clone()),
        limit: 200,
        ..Default::default()
    };
    let found: Vec<Chat> = chats::list(&mut conn, caller.workspace_id, &filter)
        .await?
        .into_iter()
        .filter(|ch| ch.contact_id == c.id)
        .collect();
    let numbers = if found.is_empty() {
        Vec::new()
    } else {
        accounts::list(&mut conn, caller.workspace_id).await?
    };
    Ok(found
        .into_iter()
        .map(|ch| {
            let number = numbers
                .iter()
                .find(|a| a.id == ch.account_id)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            (ch, number)
        })
        .collect())
}

pub fn chats_card(s: &SignedIn, chats: &[(Chat, String)]) -> Markup {
    let tr = s.tr;
    html! {
        section class="card" {
            h2 { (tr.t("contacts.chats")) }
            @if chats.is_empty() {
                p class="muted" data-testid="no-chats" { (tr.t("contacts.no_chats")) }
            } @else {
                ul class="chat-list" {
                    @for (ch, number) in chats {
                        li {
                            a href=(format!("/inbox/{}", ch.id)) {
                                (tr.f("contacts.chat_on", &[("number", number)]))
                            }
                            " " span class="status" { (tr.t(&format!("contacts.chat_status.{}", ch.status.as_str()))) }
                            @if let Some(p) = &ch.last_message_preview { " " span class="muted" { (p) } }
                        }
                    }
                }
            }
        }
    }
}
