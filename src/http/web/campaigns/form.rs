//! The draft form (new and edit): the message (text, or a canned reply
//! with its variables), the audience, the numbers with their weights, the
//! schedule, and how to send; with a preview for one contact.

use blazz_domain::template;
use blazz_store::accounts::{self, Account};
use blazz_store::canned::{self, CannedReply};
use blazz_store::contacts::{self, Contact, Filter};
use maud::{html, Markup};

use super::draft::Draft;
use super::Ctx;
use crate::error::ApiError;
use crate::http::web::home::nav;
use crate::http::web::layout::{csrf_field, error_box, page, status_label};
use crate::http::web::SignedIn;
use crate::state::AppState;

/// What the form offers to choose from.
pub struct Choices {
    pub accounts: Vec<Account>,
    pub canned: Vec<CannedReply>,
    /// The newest contacts, to preview the message for one of them.
    pub contacts: Vec<Contact>,
}

impl Choices {
    pub async fn load(state: &AppState, ctx: &Ctx) -> Result<Choices, ApiError> {
        let ws = ctx.workspace.id;
        let mut conn = state.db.pool.acquire().await?;
        let accounts = accounts::list(&mut conn, ws).await?;
        let canned = canned::list(&mut conn, ws, None).await?;
        let filter = Filter {
            limit: 100,
            ..Filter::default()
        };
        let contacts = contacts::list(&mut conn, ws, &filter).await?;
        Ok(Choices {
            accounts,
            canned,
            contacts,
        })
    }
}

/// Time zones offered first; any IANA name may be typed.
const ZONES: [&str; 10] = [
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    "Asia/Singapore",
    "Asia/Kuala_Lumpur",
    "Asia/Kolkata",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
];

/// What the preview box shows: the rendered message, or why it cannot be.
pub enum Preview {
    Shown { contact: String, text: String },
    Problem(String),
}

pub struct FormPage<'a> {
    pub action: String,
    pub title: &'a str,
    pub draft: &'a Draft,
    pub error: Option<&'a str>,
    pub preview: Option<Preview>,
}

fn radio(name: &str, value: &str, current: &str, id: &str, label: &str) -> Markup {
    html! {
        div class="cmp-check" {
            input type="radio" id=(id) name=(name) value=(value) checked[current == value];
            label for=(id) { (label) }
        }
    }
}

fn message(s: &SignedIn, d: &Draft, c: &Choices) -> Markup {
    let tr = s.tr;
    html! {
        fieldset class="cmp-section" {
            legend { (tr.t("campaigns.form.message")) }
            @if !d.kept.is_empty() {
                (radio("kind", "kept", &d.kind, "kind-kept", tr.t("campaigns.form.kind_kept")))
                input type="hidden" name="kept" value=(d.kept);
            }
            (radio("kind", "text", &d.kind, "kind-text", tr.t("campaigns.form.kind_text")))
            label for="campaign-text" { (tr.t("campaigns.form.text")) }
            textarea id="campaign-text" name="text" rows="5" maxlength="4096" aria-describedby="text-help" { (d.text) }
            p id="text-help" class="muted cmp-hint" {
                (tr.t("campaigns.form.variables_help")) " "
                code { "{{contact.name|there}}" } " · " code { "{{contact.phone}}" } " · " code { "{{contact.fields.city}}" }
            }
            (radio("kind", "template", &d.kind, "kind-template", tr.t("campaigns.form.kind_template")))
            @if c.canned.is_empty() {
                p class="muted cmp-hint" { (tr.t("campaigns.form.no_canned")) }
            } @else {
                label for="campaign-template" { (tr.t("campaigns.form.template")) }
                select id="campaign-template" name="template" {
                    option value="" { "—" }
                    @for r in &c.canned {
                        option value=(r.shortcut) selected[d.template == r.shortcut] { "/" (r.shortcut) }
                    }
                }
                @for r in &c.canned {
                    @let own: Vec<String> = template::variables(&r.body).into_iter().filter(|v| !v.starts_with("contact.")).collect();
                    @if !own.is_empty() {
                        fieldset class="cmp-vars" {
                            legend { (tr.f("campaigns.form.values_for", &[("shortcut", &r.shortcut)])) }
                            p class="muted cmp-hint" { (r.body) }
                            @for v in &own {
                                @let key = format!("{}.{v}", r.shortcut);
                                @let id = format!("var-{}-{v}", r.shortcut);
                                label for=(id) { code { "{{" (v) "}}" } }
                                input id=(id) name=(format!("var.{key}")) value=(d.vars.get(&key).map(String::as_str).unwrap_or(""));
                            }
                        }
                    }
                }
            }
        }
    }
}

fn audience(s: &SignedIn, d: &Draft) -> Markup {
    let tr = s.tr;
    html! {
        fieldset class="cmp-section" {
            legend { (tr.t("campaigns.form.audience")) }
            (radio("audience", "all", &d.audience, "aud-all", tr.t("campaigns.form.aud_all")))
            (radio("audience", "tags", &d.audience, "aud-tags", tr.t("campaigns.form.aud_tags")))
            label for="campaign-tags" { (tr.t("campaigns.form.tags")) }
            input id="campaign-tags" name="tags" value=(d.tags) placeholder="vip, jakarta";
            (radio("audience", "phones", &d.audience, "aud-phones", tr.t("campaigns.form.aud_phones")))
            label for="campaign-phones" { (tr.t("campaigns.form.phones")) }
            textarea id="campaign-phones" name="phones" rows="4" placeholder="+6281234567890" { (d.phones) }
            label for="campaign-file" { (tr.t("campaigns.form.phones_file")) }
            input id="campaign-file" name="phones_file" type="file" accept=".csv,text/csv,text/plain";
            p class="muted cmp-hint" { (tr.t("campaigns.form.phones_file_help")) }
            @for id in &d.contact_ids {
                input type="hidden" name="contact_id" value=(id);
            }
            @if !d.contact_ids.is_empty() {
                p class="muted cmp-hint" { (tr.n("campaigns.form.listed_contacts", d.contact_ids.len() as i64, &[])) }
            }
            p class="muted cmp-hint" { (tr.t("campaigns.form.opted_out_note")) }
        }
    }
}

fn numbers(s: &SignedIn, d: &Draft, c: &Choices) -> Markup {
    let tr = s.tr;
    html! {
        fieldset class="cmp-section" {
            legend { (tr.t("campaigns.form.numbers")) }
            @if c.accounts.is_empty() {
                p data-testid="no-numbers" { (tr.t("campaigns.form.no_numbers")) " " a href="/numbers" { (tr.t("campaigns.link_number")) } }
            } @else {
                p class="muted cmp-hint" { (tr.t("campaigns.form.numbers_help")) }
                @for a in &c.accounts {
                    @let id = a.id.to_string();
                    div class="cmp-number" {
                        div class="cmp-check" {
                            input type="checkbox" id=(format!("acc-{id}")) name="account" value=(id) checked[d.accounts.contains(&id)];
                            label for=(format!("acc-{id}")) {
                                (a.name) @if let Some(p) = &a.phone { " · " (p) }
                                " " span class="status" data-status=(a.status.as_str()) { (status_label(tr, a.status)) }
                            }
                        }
                        label for=(format!("weight-{id}")) class="cmp-weight" {
                            (tr.t("campaigns.form.weight")) " "
                            input id=(format!("weight-{id}")) name=(format!("weight.{id}")) type="number" min="1" max="100"
                                value=(d.weights.get(&id).map(String::as_str).unwrap_or("1"));
                        }
                    }
                }
            }
        }
    }
}

fn schedule(s: &SignedIn, d: &Draft) -> Markup {
    let tr = s.tr;
    html! {
        fieldset class="cmp-section" {
            legend { (tr.t("campaigns.form.schedule")) }
            (radio("start", "now", &d.start, "start-now", tr.t("campaigns.form.start_now")))
            (radio("start", "later", &d.start, "start-later", tr.t("campaigns.form.start_later")))
            label for="campaign-start-at" { (tr.t("campaigns.form.start_at")) }
            input id="campaign-start-at" name="start_at" type="datetime-local" value=(d.start_at);
            label for="campaign-tz" { (tr.t("campaigns.form.time_zone")) }
            input id="campaign-tz" name="time_zone" list="time-zones" value=(d.time_zone) placeholder="Asia/Jakarta" aria-describedby="tz-help";
            datalist id="time-zones" { @for z in ZONES { option value=(z) {} } }
            p id="tz-help" class="muted cmp-hint" { (tr.t("campaigns.form.time_zone_help")) }
            div class="cmp-row" {
                div {
                    label for="campaign-window-start" { (tr.t("campaigns.form.window_start")) }
                    input id="campaign-window-start" name="window_start" type="time" value=(d.window_start);
                }
                div {
                    label for="campaign-window-end" { (tr.t("campaigns.form.window_end")) }
                    input id="campaign-window-end" name="window_end" type="time" value=(d.window_end);
                }
            }
            p class="muted cmp-hint" { (tr.t("campaigns.form.window_help")) }
        }
    }
}

fn sending(s: &SignedIn, d: &Draft) -> Markup {
    let tr = s.tr;
    html! {
        fieldset class="cmp-section" {
            legend { (tr.t("campaigns.form.sending")) }
            label for="campaign-cooldown" { (tr.t("campaigns.form.cooldown")) }
            input id="campaign-cooldown" name="cooldown" type="number" min="0" max="2160" value=(d.cooldown) aria-describedby="cooldown-help";
            p id="cooldown-help" class="muted cmp-hint" { (tr.t("campaigns.form.cooldown_help")) }
            p class="cmp-label" { (tr.t("campaigns.form.pacing")) }
            (radio("pacing", "default", &d.pacing, "pacing-default", tr.t("campaigns.form.pacing_default")))
            (radio("pacing", "off", &d.pacing, "pacing-off", tr.t("campaigns.form.pacing_off")))
            p class="cmp-warning" role="note" { (tr.t("campaigns.form.pacing_warning")) }
            div class="cmp-check" {
                input type="checkbox" id="campaign-typing" name="typing" checked[d.typing];
                label for="campaign-typing" { (tr.t("campaigns.form.typing")) }
            }
        }
    }
}

fn preview(s: &SignedIn, d: &Draft, c: &Choices, shown: &Option<Preview>) -> Markup {
    let tr = s.tr;
    html! {
        fieldset class="cmp-section" {
            legend { (tr.t("campaigns.form.preview")) }
            @if c.contacts.is_empty() {
                p class="muted cmp-hint" { (tr.t("campaigns.form.preview_no_contacts")) }
            } @else {
                label for="preview-contact" { (tr.t("campaigns.form.preview_for")) }
                select id="preview-contact" name="preview_contact" {
                    @for ct in &c.contacts {
                        @let id = ct.id.to_string();
                        option value=(id) selected[d.preview_contact == id] {
                            (ct.name.as_deref().unwrap_or(&ct.phone)) " · " (ct.phone)
                        }
                    }
                }
            }
            @match shown {
                Some(Preview::Shown { contact, text }) => {
                    div class="cmp-preview" data-testid="preview" aria-live="polite" {
                        p class="muted" { (tr.f("campaigns.form.preview_to", &[("contact", contact)])) }
                        p class="cmp-bubble" { (text) }
                    }
                }
                Some(Preview::Problem(why)) => { p class="error" data-testid="preview" role="alert" { (why) } }
                None => {}
            }
        }
    }
}

pub fn render(s: &SignedIn, c: &Choices, f: FormPage<'_>) -> Markup {
    let tr = s.tr;
    let d = f.draft;
    let body = html! {
        p { a href="/campaigns" { "← " (tr.t("campaigns.title")) } }
        div class="card cmp-form" {
            h1 { (f.title) }
            (error_box(f.error))
            form method="post" action=(f.action) enctype="multipart/form-data" {
                (csrf_field(&s.csrf))
                label for="campaign-name" { (tr.t("campaigns.form.name")) }
                input id="campaign-name" name="name" required maxlength="120" value=(d.name) placeholder=(tr.t("campaigns.form.name_placeholder"));
                (message(s, d, c))
                (audience(s, d))
                (numbers(s, d, c))
                (schedule(s, d))
                (sending(s, d))
                (preview(s, d, c, &f.preview))
                div class="actions" {
                    button type="submit" name="intent" value="save" { (tr.t("campaigns.form.save")) }
                    button type="submit" name="intent" value="preview" class="secondary" { (tr.t("campaigns.form.preview_button")) }
                }
            }
        }
    };
    page(tr, f.title, Some(nav(s)), body)
}
