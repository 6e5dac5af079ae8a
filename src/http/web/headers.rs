//! Security headers on every page: a Content-Security-Policy that allows
//! only Blazz's own script, stylesheet, images and socket (no inline script
//! or style, no framing), and the usual companions.

use axum::http::{header, HeaderName, HeaderValue};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

/// `connect-src 'self'` covers the live socket: CSP Level 3 matches `ws:`
/// and `wss:` on the page's own host. Images may be `data:` (QR codes) or
/// `blob:` (a chosen attachment's preview).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

type Layers = tower::layer::util::Stack<
    SetResponseHeaderLayer<HeaderValue>,
    tower::layer::util::Stack<
        SetResponseHeaderLayer<HeaderValue>,
        tower::layer::util::Stack<
            SetResponseHeaderLayer<HeaderValue>,
            tower::layer::util::Stack<
                SetResponseHeaderLayer<HeaderValue>,
                tower::layer::util::Identity,
            >,
        >,
    >,
>;

pub fn security_headers() -> ServiceBuilder<Layers> {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    ServiceBuilder::new()
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::REFERRER_POLICY, "same-origin"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}
