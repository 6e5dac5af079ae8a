//! Creating and changing a draft from the form, or previewing its message
//! for one contact without saving. Admins and owners only, as in the API;
//! a refusal comes back on the form with what was entered.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use blazz_domain::ContactId;
use blazz_store::{canned, contacts};

use super::draft::Draft;
use super::form::{self, Choices, FormPage, Preview};
use super::{campaign_id, check_csrf, explain, no_workspace, not_found, refused, Ctx};
use crate::campaigns::{dispatch, service};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::SignedIn;
use crate::inbox::body::Body;
use crate::state::AppState;

/// Where the form posts, and what its page is called.
enum Target {
    New,
    Edit(blazz_domain::CampaignId),
}

impl Target {
    fn action(&self) -> String {
        match self {
            Target::New => "/campaigns".into(),
            Target::Edit(id) => format!("/campaigns/{id}/edit"),
        }
    }

    fn title(&self, s: &SignedIn) -> &'static str {
        match self {
            Target::New => s.tr.t("campaigns.new_title"),
            Target::Edit(_) => s.tr.t("campaigns.edit_title"),
        }
    }
}

async fn form_page(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    target: &Target,
    draft: &Draft,
    error: Option<&str>,
    preview: Option<Preview>,
) -> Result<maud::Markup, ApiError> {
    let choices = Choices::load(state, ctx).await?;
    Ok(form::render(
        s,
        &choices,
        FormPage {
            action: target.action(),
            title: target.title(s),
            draft,
            error,
            preview,
        },
    ))
}

pub async fn new(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(no_workspace());
    };
    if !ctx.admin() {
        return Ok(refused(
            &s,
            ApiError::forbidden(s.tr.t("campaigns.admin_only")),
        ));
    }
    let mut draft = Draft::default();
    let choices = Choices::load(&state, &ctx).await?;
    // With one number there is nothing to choose.
    if let [only] = choices.accounts.as_slice() {
        draft.accounts.push(only.id.to_string());
    }
    let target = Target::New;
    let body = form::render(
        &s,
        &choices,
        FormPage {
            action: target.action(),
            title: target.title(&s),
            draft: &draft,
            error: None,
            preview: None,
        },
    );
    Ok(body.into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = campaign_id(&raw) else {
        return Ok(not_found(&s));
    };
    let full = match service::find(&state, &ctx.caller, id).await {
        Ok(f) => f,
        Err(e) => return Ok(refused(&s, e)),
    };
    if !ctx.admin() {
        return Ok(refused(
            &s,
            ApiError::forbidden(s.tr.t("campaigns.admin_only")),
        ));
    }
    if !full.campaign.status.editable() {
        return Ok(Redirect::to(&format!("/campaigns/{id}")).into_response());
    }
    let draft = Draft::of(&full);
    let page = form_page(&state, &s, &ctx, &Target::Edit(id), &draft, None, None).await?;
    Ok(page.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    req: Request,
) -> Result<Response, ApiError> {
    submit(state, s, Target::New, req).await
}

pub async fn update(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let Some(id) = campaign_id(&raw) else {
        return Ok(not_found(&s));
    };
    submit(state, s, Target::Edit(id), req).await
}

async fn submit(
    state: AppState,
    s: SignedIn,
    target: Target,
    req: Request,
) -> Result<Response, ApiError> {
    let draft = match Draft::read(&state, req).await {
        Ok(d) => d,
        Err(e) => return Ok(refused(&s, e)),
    };
    if check_csrf(&s, &draft.csrf).is_err() {
        return Ok(super::expired(&s));
    }
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(no_workspace());
    };
    if let Target::Edit(id) = &target {
        // Another workspace's id is "not found" before anything else.
        if let Err(e) = service::find(&state, &ctx.caller, *id).await {
            return Ok(refused(&s, e));
        }
    }
    if !ctx.admin() {
        return Ok(refused(
            &s,
            ApiError::forbidden(s.tr.t("campaigns.admin_only")),
        ));
    }
    if draft.intent == "preview" {
        let shown = preview(&state, &s, &ctx, &draft).await?;
        let page = form_page(&state, &s, &ctx, &target, &draft, None, Some(shown)).await?;
        return Ok(page.into_response());
    }
    let saved = match draft.input() {
        Err(e) => Err(e),
        Ok(input) => match &target {
            Target::New => service::create(&state, &ctx.caller, input).await,
            Target::Edit(id) => service::update(&state, &ctx.caller, *id, input).await,
        },
    };
    let e = match saved {
        Ok(full) => {
            return Ok(Redirect::to(&format!("/campaigns/{}", full.campaign.id)).into_response())
        }
        Err(e) => e,
    };
    let campaign_gone = matches!(&e, ApiError::NotFound(code, _) if *code == "campaign_not_found");
    let shown = !campaign_gone
        && matches!(
            e,
            ApiError::Invalid { .. } | ApiError::Conflict(..) | ApiError::NotFound(..)
        );
    if !shown {
        return Ok(refused(&s, e));
    }
    let status = if matches!(e, ApiError::NotFound(..)) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        e.status()
    };
    let why = explain(s.tr, &e);
    let page = form_page(&state, &s, &ctx, &target, &draft, Some(&why), None).await?;
    Ok((status, page).into_response())
}

/// The draft's message as the chosen contact would read it.
async fn preview(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    d: &Draft,
) -> Result<Preview, ApiError> {
    let tr = s.tr;
    let ws = ctx.workspace.id;
    let mut conn = state.db.pool.acquire().await?;
    let Some(contact) = (match d.preview_contact.parse::<ContactId>() {
        Ok(id) => contacts::find(&mut conn, ws, id).await?,
        Err(_) => None,
    }) else {
        return Ok(Preview::Problem(
            tr.t("campaigns.form.preview_choose").into(),
        ));
    };
    let body = match d.body() {
        Body::Template {
            template,
            variables,
            ..
        } => {
            let wanted = template.trim().trim_start_matches('/').to_lowercase();
            let reply = canned::list(&mut conn, ws, Some(&wanted))
                .await?
                .into_iter()
                .find(|r| r.shortcut == wanted);
            let Some(reply) = reply else {
                return Ok(Preview::Problem(
                    tr.t("campaigns.errors.template_not_found").into(),
                ));
            };
            Body::Template {
                template,
                language: None,
                variables,
                text: Some(reply.body),
            }
        }
        text => text,
    };
    let text = dispatch::render(&body, Some(&contact))
        .text()
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(Preview::Problem(
            tr.t("campaigns.errors.invalid_body").into(),
        ));
    }
    Ok(Preview::Shown {
        contact: contact.name.clone().unwrap_or(contact.phone.clone()),
        text,
    })
}
