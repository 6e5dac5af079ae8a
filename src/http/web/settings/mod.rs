//! The settings pages: the member's profile and security, and for the
//! workspace its members, invitations, API tokens, webhooks and realtime
//! credentials. Each goes through the same services as the API, so roles
//! and tenancy are the API's; the sub-navigation shows only what the
//! member's role may open.

mod home;
mod invitations;
mod members;
mod profile;
mod realtime;
mod security;
mod tokens;
mod webhooks;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use blazz_domain::Role;
use blazz_store::audit::Actor;
use blazz_store::workspaces::Workspace;
use maud::{html, Markup};

use super::ctx::csrf_ok;
use super::home::nav;
use super::layout::{error_text, page};
use super::notice::Back;
use super::SignedIn;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(home::show))
        .route("/settings/profile", get(profile::show).post(profile::save))
        .route("/settings/security", get(security::show))
        .route("/settings/security/totp", post(security::start))
        .route("/settings/security/totp/confirm", post(security::confirm))
        .route("/settings/security/totp/disable", post(security::disable))
        .route("/settings/members", get(members::show))
        .route("/settings/members/{id}/role", post(members::change_role))
        .route("/settings/members/{id}/remove", post(members::remove))
        .route(
            "/settings/invitations",
            get(invitations::show).post(invitations::create),
        )
        .route(
            "/settings/invitations/{id}/revoke",
            post(invitations::revoke),
        )
        .route("/settings/tokens", get(tokens::show).post(tokens::create))
        .route("/settings/tokens/{id}/revoke", post(tokens::revoke))
        .route("/settings/realtime", get(realtime::show))
        .route("/settings/realtime/rotate", post(realtime::rotate))
        .merge(webhooks::router())
}

/// The signed-in browser as the API sees it, in its current workspace.
struct Ctx {
    caller: Caller,
    workspace: Workspace,
}

impl Ctx {
    /// `None` when the member belongs to no workspace.
    fn of(s: &SignedIn) -> Option<Self> {
        let (workspace, role) = s.current.clone()?;
        Some(Ctx {
            caller: Caller {
                workspace_id: workspace.id,
                role,
                actor: Actor {
                    kind: "user",
                    id: Some(s.user.id.to_string()),
                    name: s.user.name.clone(),
                },
                user_id: Some(s.user.id),
                token_id: None,
            },
            workspace,
        })
    }

    fn admin(&self) -> bool {
        self.caller.role.at_least(Role::Admin)
    }
}

/// The parts of settings, in the order of the sub-navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Profile,
    Security,
    Members,
    Invitations,
    Tokens,
    Webhooks,
    Realtime,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Profile,
        Section::Security,
        Section::Members,
        Section::Invitations,
        Section::Tokens,
        Section::Webhooks,
        Section::Realtime,
    ];

    fn href(self) -> &'static str {
        match self {
            Section::Profile => "/settings/profile",
            Section::Security => "/settings/security",
            Section::Members => "/settings/members",
            Section::Invitations => "/settings/invitations",
            Section::Tokens => "/settings/tokens",
            Section::Webhooks => "/settings/webhooks",
            Section::Realtime => "/settings/realtime",
        }
    }

    fn label(self, s: &SignedIn) -> &'static str {
        let tr = s.tr;
        match self {
            Section::Profile => tr.t("settings.nav.profile"),
            Section::Security => tr.t("settings.nav.security"),
            Section::Members => tr.t("settings.nav.members"),
            Section::Invitations => tr.t("settings.nav.invitations"),
            Section::Tokens => tr.t("settings.nav.tokens"),
            Section::Webhooks => tr.t("settings.nav.webhooks"),
            Section::Realtime => tr.t("settings.nav.realtime"),
        }
    }

    fn about(self, s: &SignedIn) -> &'static str {
        let tr = s.tr;
        match self {
            Section::Profile => tr.t("settings.about.profile"),
            Section::Security => tr.t("settings.about.security"),
            Section::Members => tr.t("settings.about.members"),
            Section::Invitations => tr.t("settings.about.invitations"),
            Section::Tokens => tr.t("settings.about.tokens"),
            Section::Webhooks => tr.t("settings.about.webhooks"),
            Section::Realtime => tr.t("settings.about.realtime"),
        }
    }

    /// Whether a member with `role` (none: in no workspace) may open it.
    fn visible(self, role: Option<Role>) -> bool {
        match self {
            Section::Profile | Section::Security => true,
            Section::Members | Section::Realtime => role.is_some(),
            Section::Invitations | Section::Tokens | Section::Webhooks => {
                role.is_some_and(|r| r.at_least(Role::Admin))
            }
        }
    }
}

fn role_of(s: &SignedIn) -> Option<Role> {
    s.current.as_ref().map(|(_, r)| *r)
}

/// The sub-navigation: only the sections the member may open.
fn subnav(s: &SignedIn, active: Option<Section>) -> Markup {
    let role = role_of(s);
    html! {
        nav class="settings-nav" aria-label=(s.tr.t("settings.nav.label")) {
            ul {
                @for sec in Section::ALL.iter().filter(|x| x.visible(role)) {
                    li {
                        @if Some(*sec) == active {
                            a href=(sec.href()) aria-current="page" { (sec.label(s)) }
                        } @else {
                            a href=(sec.href()) { (sec.label(s)) }
                        }
                    }
                }
            }
        }
    }
}

/// A settings page: the header, the sub-navigation and `body`.
fn shell(s: &SignedIn, active: Section, body: Markup) -> Markup {
    let title = active.label(s);
    page(
        s.tr,
        title,
        Some(nav(s)),
        html! {
            (subnav(s, Some(active)))
            (body)
        },
    )
}

/// A page that only says why it cannot be shown.
fn message_page(s: &SignedIn, status: StatusCode, title: &str, text: &str) -> Response {
    let back = Back {
        href: "/settings",
        label: s.tr.t("settings.back_to_settings"),
    };
    super::notice::notice(s, status, title, text, back, subnav(s, None))
}

/// Another workspace's item, or none: the same page.
fn not_found(s: &SignedIn) -> Response {
    message_page(
        s,
        StatusCode::NOT_FOUND,
        s.tr.t("common.not_found"),
        s.tr.t("common.not_found_body"),
    )
}

/// A page or action the member's role does not allow.
fn forbidden(s: &SignedIn) -> Response {
    message_page(
        s,
        StatusCode::FORBIDDEN,
        s.tr.t("settings.forbidden"),
        s.tr.t("settings.forbidden_body"),
    )
}

/// The answer to a form without the session's token.
fn form_expired(s: &SignedIn) -> Response {
    message_page(
        s,
        StatusCode::FORBIDDEN,
        s.tr.t("settings.refused"),
        s.tr.t("common.form_expired"),
    )
}

/// The context of an admin or owner; `None` for everyone else.
fn admin(s: &SignedIn) -> Option<Ctx> {
    Ctx::of(s).filter(Ctx::admin)
}

/// Whether the member can act on `e` (shown on the form's page).
fn fixable(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Invalid { .. }
            | ApiError::Conflict(..)
            | ApiError::RateLimited { .. }
            | ApiError::RateLimitedWith { .. }
            | ApiError::Unavailable(..)
    )
}

/// A refusal that is not shown on a form: not found and forbidden are
/// pages; the rest is the API's answer.
fn refusal(s: &SignedIn, e: ApiError) -> Response {
    match e {
        ApiError::NotFound(..) => not_found(s),
        ApiError::Forbidden(_) => message_page(
            s,
            StatusCode::FORBIDDEN,
            s.tr.t("settings.forbidden"),
            &error_text(s.tr, &e),
        ),
        e => e.into_response(),
    }
}

/// Milliseconds since the epoch as a short UTC time for tables.
fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// What a page says about a refusal: settings' own wording for the codes
/// only these pages meet, else the shared one.
fn say(s: &SignedIn, e: &ApiError) -> String {
    s.tr.get(&format!("settings.errors.{}", e.code()))
        .map(str::to_string)
        .unwrap_or_else(|| error_text(s.tr, e))
}
