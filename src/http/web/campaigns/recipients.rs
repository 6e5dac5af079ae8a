//! A campaign's recipients on its page: a status filter, 50 a page in plan
//! order (`?after={seq}` carries the cursor), and the CSV download (the
//! API's, which takes the session cookie like any signed-in GET).

use blazz_domain::campaign::RecipientStatus;
use blazz_domain::CampaignId;
use blazz_store::accounts::Account;
use blazz_store::campaigns::recipients::{self, Recipient};
use maud::{html, Markup};

use super::{when, Ctx};
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::state::AppState;

pub const PAGE: i64 = 50;

/// The page's place in the list: the status shown, and after which seq.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Place {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub after: Option<i64>,
}

pub fn status_label(tr: Tr, s: RecipientStatus) -> &'static str {
    tr.t(&format!("campaigns.stat.{}", s.as_str()))
}

pub async fn section(
    state: &AppState,
    tr: Tr,
    ctx: &Ctx,
    id: CampaignId,
    place: &Place,
    accounts: &[Account],
) -> Result<Markup, ApiError> {
    let status: Option<RecipientStatus> = place
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let after = place.after.unwrap_or(0).max(0);
    let mut conn = state.db.pool.acquire().await?;
    let mut rows: Vec<Recipient> =
        recipients::page(&mut conn, ctx.workspace.id, id, status, after, PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let number = |r: &Recipient| {
        r.account_id
            .and_then(|a| accounts.iter().find(|x| x.id == a))
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let filter = status.map(|s| s.as_str()).unwrap_or("");
    Ok(html! {
        section class="card" id="recipients" {
            div class="cmp-head" {
                h2 { (tr.t("campaigns.recipients")) }
                a class="cmp-button secondary" href=(format!("/api/v1/campaigns/{id}/recipients.csv")) download { (tr.t("campaigns.download_csv")) }
            }
            form method="get" action=(format!("/campaigns/{id}")) class="cmp-filter" {
                label for="recipient-status" { (tr.t("campaigns.filter_status")) }
                select id="recipient-status" name="status" {
                    option value="" { (tr.t("campaigns.filter_all")) }
                    @for st in RecipientStatus::ALL {
                        option value=(st.as_str()) selected[filter == st.as_str()] { (status_label(tr, st)) }
                    }
                }
                button type="submit" class="secondary" { (tr.t("campaigns.filter")) }
            }
            @if rows.is_empty() {
                p class="muted" data-testid="recipients-empty" {
                    @if after > 0 || status.is_some() { (tr.t("campaigns.recipients_none_here")) }
                    @else { (tr.t("campaigns.recipients_none")) }
                }
            } @else {
                table class="cmp-table" data-testid="recipients" {
                    thead { tr {
                        th { (tr.t("campaigns.phone")) }
                        th { (tr.t("campaigns.status_title")) }
                        th class="opt" { (tr.t("campaigns.number")) }
                        th class="opt" { (tr.t("campaigns.sent_time")) }
                    } }
                    tbody {
                        @for r in &rows {
                            tr data-recipient-status=(r.status.as_str()) {
                                td class="cmp-phone" { (r.phone) }
                                td {
                                    (status_label(tr, r.status))
                                    @if let Some(why) = &r.reason {
                                        " · " span class="muted" { (tr.get(&format!("campaigns.reason.{why}")).unwrap_or(why)) }
                                    }
                                }
                                td class="opt" { (number(r)) }
                                td class="opt" { (r.sent_at.map(when).unwrap_or_default()) }
                            }
                        }
                    }
                }
                @if more {
                    @if let Some(last) = rows.last() {
                        p { a href=(format!("/campaigns/{id}?status={filter}&after={}#recipients", last.seq)) { (tr.t("campaigns.next_page")) } }
                    }
                }
            }
        }
    })
}
