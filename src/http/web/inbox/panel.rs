//! The conversation's side panel: status, assignment and internal notes
//! (seen by the team only, set apart from the customer's messages). The
//! live script fetches it again on `chat.updated` and `chat.note_added`.

use blazz_domain::ChatStatus;
use blazz_store::chats::{self, Chat};
use maud::{html, Markup};

use super::bubble::when;
use super::list::Names;
use super::Ctx;
use crate::error::ApiError;
use crate::events;
use crate::http::web::layout::{csrf_field, error_box};
use crate::http::web::SignedIn;
use crate::state::AppState;

const STATUSES: [ChatStatus; 3] = [ChatStatus::Open, ChatStatus::Pending, ChatStatus::Resolved];

pub async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    chat: &Chat,
    names: &Names,
    error: Option<&str>,
) -> Result<Markup, ApiError> {
    let tr = s.tr;
    let notes = {
        let mut conn = state.db.pool.acquire().await?;
        chats::notes(&mut conn, ctx.workspace.id, chat.id).await?
    };
    let base = format!("/inbox/{}", chat.id);
    let me = s.user.id;
    let assignee = chat.assignee_id.and_then(|u| names.members.get(&u));
    let mut members: Vec<_> = names.members.iter().collect();
    members.sort_by(|a, b| a.1.cmp(b.1));
    Ok(html! {
        aside id="chat-panel" class="inbox-panel card" aria-label=(tr.t("inbox.panel"))
            data-fragment=(format!("{base}/panel"))
            data-channel=(events::chat_channel(&chat.id.to_string()))
            data-refresh-on="chat.updated chat.note_added" {
            h2 { (tr.t("inbox.panel")) }
            (error_box(error))
            p {
                span class="status" data-chat-status=(chat.status.as_str()) data-testid="chat-status" {
                    (tr.t(&format!("inbox.status.{}", chat.status.as_str())))
                }
                " "
                span data-testid="chat-assignee" {
                    @match assignee {
                        Some(name) => { (tr.f("inbox.assigned_to", &[("name", name)])) }
                        None => { (tr.t("inbox.unassigned")) }
                    }
                }
            }
            @if !chat.labels.is_empty() {
                p class="muted" { (tr.t("inbox.labels")) ": " (chat.labels.join(", ")) }
            }
            form method="post" action=(format!("{base}/status")) data-async data-done=(tr.t("inbox.done")) {
                (csrf_field(&s.csrf))
                label for="chat-status" { (tr.t("inbox.set_status")) }
                select id="chat-status" name="status" {
                    @for st in STATUSES {
                        option value=(st.as_str()) selected[chat.status == st] { (tr.t(&format!("inbox.status.{}", st.as_str()))) }
                    }
                }
                button type="submit" class="secondary" { (tr.t("inbox.save_status")) }
                p data-async-result role="status" {}
            }
            form method="post" action=(format!("{base}/assign")) data-async data-done=(tr.t("inbox.done")) {
                (csrf_field(&s.csrf))
                label for="chat-assignee" { (tr.t("inbox.assign")) }
                select id="chat-assignee" name="assignee" {
                    option value="none" selected[chat.assignee_id.is_none()] { (tr.t("inbox.nobody")) }
                    option value="me" selected[chat.assignee_id == Some(me)] { (tr.t("inbox.me")) }
                    @for (id, name) in &members {
                        @if **id != me {
                            option value=(id) selected[chat.assignee_id == Some(**id)] { (name) }
                        }
                    }
                }
                button type="submit" class="secondary" { (tr.t("inbox.save_assignee")) }
                p data-async-result role="status" {}
            }
            h2 { (tr.t("inbox.notes")) }
            @if notes.is_empty() {
                p class="muted" { (tr.t("inbox.notes_empty")) }
            } @else {
                ol class="notes" {
                    @for n in &notes {
                        li class="note" {
                            p class="note-body" { (n.body) }
                            p class="muted note-foot" { (n.author) " · " (when(n.created_at)) }
                        }
                    }
                }
            }
            form method="post" action=(format!("{base}/notes")) data-async data-done=(tr.t("inbox.note_added")) {
                (csrf_field(&s.csrf))
                label for="note-body" { (tr.t("inbox.add_note")) }
                textarea id="note-body" name="body" rows="3" required maxlength="10000" {}
                button type="submit" class="secondary" { (tr.t("inbox.add_note_button")) }
                p data-async-result role="status" {}
            }
        }
    })
}
