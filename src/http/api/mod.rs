//! The JSON API under `/api/v1`. Every handler is registered through
//! `utoipa-axum`, so the OpenAPI document lists exactly the routes that exist.

pub mod account_groups;
pub mod accounts;
pub mod audit;
pub mod campaigns;
pub mod canned;
pub mod chats;
pub mod contacts;
pub mod invitations;
pub mod jobs;
pub mod me;
pub mod media;
pub mod members;
pub mod realtime;
pub mod sandbox;
pub mod templates;
pub mod tokens;
pub mod webhooks;
pub mod workspace;

use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Blazz API", version = env!("CARGO_PKG_VERSION"), description = "Blazz: self-hosted, multi-tenant WhatsApp business messaging. \
        Authenticate with `Authorization: Bearer blz_...` (API token) or a signed-in browser session \
        (with the `X-CSRF-Token` header on writes). Errors are `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "AGPL-3.0-only", identifier = "AGPL-3.0-only")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("blz_...")
                    .build(),
            ),
        );
    }
}

/// Every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `member_not_found`.
    pub code: String,
    pub message: String,
}

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    pub fn all(data: Vec<T>) -> Self {
        Self {
            data,
            next_cursor: None,
        }
    }

    /// A page of `rows` asked for with `limit`: a full page points on to
    /// the next through the last row's cursor.
    pub fn of<R>(
        rows: Vec<R>,
        limit: i64,
        cursor: impl Fn(&R) -> String,
        view: impl FnMut(R) -> T,
    ) -> Self {
        let next_cursor = (rows.len() as i64 == limit)
            .then(|| rows.last().map(cursor))
            .flatten();
        Self {
            data: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

/// The page size asked for, 1 to 200 (default 50).
pub fn page_limit(asked: Option<i64>) -> i64 {
    asked.unwrap_or(50).clamp(1, 200)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

impl PageQuery {
    pub fn limit(&self) -> i64 {
        page_limit(self.limit)
    }
}

/// Contact imports take bigger bodies than the rest of the API.
pub const IMPORT_LIMIT_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me::get))
        .routes(routes!(workspace::get, workspace::update))
        .routes(routes!(members::list))
        .routes(routes!(members::update, members::remove))
        .routes(routes!(invitations::list, invitations::create))
        .routes(routes!(invitations::revoke))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::get))
        .routes(routes!(jobs::retry))
        .routes(routes!(canned::list, canned::create))
        .routes(routes!(canned::get, canned::update, canned::delete))
        .routes(routes!(canned::render))
        .routes(routes!(contacts::list, contacts::create))
        .routes(routes!(contacts::export))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(contacts::import))
                .layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT_BYTES)),
        )
        .routes(routes!(contacts::get, contacts::update, contacts::delete))
        .merge(
            // Uploads are held to the size limit of their kind as they are
            // read (`media.max_*_bytes`), not to the general body limit.
            OpenApiRouter::new()
                .routes(routes!(media::upload))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .routes(routes!(media::download, media::delete))
        .routes(routes!(media::info))
        .routes(routes!(chats::list))
        .routes(routes!(chats::get, chats::update))
        .routes(routes!(chats::read))
        .routes(routes!(chats::typing))
        .routes(routes!(chats::notes, chats::add_note))
        .routes(routes!(chats::messages, chats::reply))
        .routes(routes!(chats::search, chats::send))
        .routes(routes!(chats::get_message))
        .routes(routes!(accounts::list, accounts::create))
        .routes(routes!(accounts::get, accounts::update, accounts::delete))
        .routes(routes!(accounts::test))
        .routes(routes!(accounts::resume_sending))
        .routes(routes!(templates::list, templates::create))
        .routes(routes!(templates::get, templates::delete))
        .routes(routes!(templates::sync))
        .routes(routes!(account_groups::list, account_groups::create))
        .routes(routes!(account_groups::get, account_groups::delete))
        .routes(routes!(accounts::link))
        .routes(routes!(accounts::qr))
        .routes(routes!(accounts::reconnect))
        .routes(routes!(accounts::logout))
        .routes(routes!(realtime::get))
        .routes(routes!(realtime::rotate))
        .routes(routes!(sandbox::scan))
        .routes(routes!(sandbox::inbound))
        .routes(routes!(sandbox::phone_send))
        .routes(routes!(sandbox::typing, sandbox::sends::typing_sent))
        .routes(routes!(sandbox::disconnect))
        .routes(routes!(sandbox::silence))
        .routes(routes!(sandbox::logout))
        .routes(routes!(sandbox::ban))
        .routes(routes!(sandbox::presence))
        .routes(routes!(sandbox::outage))
        .routes(routes!(sandbox::pacing_switch))
        .routes(routes!(sandbox::sends::received))
        .routes(routes!(sandbox::sends::reads))
        .routes(routes!(sandbox::sends::receipt))
        .routes(routes!(sandbox::sends::send_failures))
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(
            campaigns::get,
            campaigns::update,
            campaigns::delete
        ))
        .routes(routes!(campaigns::start))
        .routes(routes!(campaigns::pause))
        .routes(routes!(campaigns::resume))
        .routes(routes!(campaigns::cancel))
        .routes(routes!(campaigns::recipients))
        .routes(routes!(campaigns::export))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::replay_delivery))
        .routes(routes!(webhooks::replay))
        .routes(routes!(webhooks::test))
}

/// Milliseconds since the epoch as RFC 3339, for API bodies.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
