//! `/settings/profile`: the member's name and the language of their pages
//! (English, Bahasa Indonesia, or whatever the browser asks for).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_store::users;
use maud::{html, Markup};
use serde::Deserialize;

use super::{csrf_ok, form_expired, say, shell, Section};
use crate::error::ApiError;
use crate::http::web::layout::{csrf_field, error_box};
use crate::http::web::SignedIn;
use crate::i18n::Lang;
use crate::services::accounts::validate_name;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    saved: Option<String>,
}

fn render(s: &SignedIn, name: &str, error: Option<&str>, saved: bool) -> Markup {
    let tr = s.tr;
    let chosen = s.user.language.as_deref().and_then(Lang::parse);
    shell(
        s,
        Section::Profile,
        html! {
            div class="card" {
                h1 { (tr.t("settings.profile.title")) }
                @if saved { p class="notice" role="status" data-testid="saved" { (tr.t("settings.profile.saved")) } }
                (error_box(error))
                form method="post" action="/settings/profile" {
                    (csrf_field(&s.csrf))
                    label for="profile-email" { (tr.t("settings.profile.email")) }
                    input id="profile-email" type="email" value=(s.user.email) readonly;
                    label for="profile-name" { (tr.t("settings.profile.name")) }
                    input id="profile-name" name="name" required maxlength="120" autocomplete="name" value=(name);
                    label for="profile-language" { (tr.t("settings.profile.language")) }
                    select id="profile-language" name="language" {
                        option value="" selected[chosen.is_none()] { (tr.t("settings.profile.follow_browser")) }
                        @for lang in Lang::ALL {
                            option value=(lang.code()) lang=(lang.code()) selected[chosen == Some(lang)] { (lang.native_name()) }
                        }
                    }
                    p class="muted" { (tr.t("settings.profile.language_hint")) }
                    button type="submit" { (tr.t("common.save")) }
                }
            }
        },
    )
}

pub async fn show(s: SignedIn, Query(q): Query<Notice>) -> Response {
    render(&s, &s.user.name, None, q.saved.is_some()).into_response()
}

pub async fn save(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<ProfileForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    let name = match validate_name("name", &f.name) {
        Ok(n) => n,
        Err(e) => {
            let page = render(&s, &f.name, Some(&say(&s, &e)), false);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    // Anything but a language Blazz has means "follow the browser".
    let language = Lang::parse(&f.language).map(Lang::code);
    let mut conn = state.db.write().await?;
    users::set_profile(&mut conn, s.user.id, &name, language).await?;
    Ok(Redirect::to("/settings/profile?saved=1").into_response())
}
