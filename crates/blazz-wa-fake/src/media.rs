//! WhatsApp's media CDN, in memory: `media_conn` hands out a host, uploads
//! are kept, downloads served; every other HTTP request is refused.

use std::sync::Arc;

use async_trait::async_trait;
use whatsapp_rust::wacore::net::{HttpClient, HttpRequest, HttpResponse};
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::Node;

use crate::iq::result;
use crate::server::Shared;

pub(crate) const MEDIA_HOST: &str = "mmg.blazz-fake.invalid";

/// The HTTP client clients must use (`Bot::builder().with_http_client(..)`).
#[derive(Clone)]
pub struct FakeMediaCdn {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) fn media_conn(node: &Node) -> Node {
    result(
        node,
        vec![NodeBuilder::new("media_conn")
            .attr("auth", "blazz-fake-auth")
            .attr("ttl", "3600")
            .attr("auth_ttl", "3600")
            .attr("max_buckets", "12")
            .children([NodeBuilder::new("host")
                .attr("hostname", MEDIA_HOST)
                .attr("type", "primary")
                .build()])
            .build()],
    )
}

/// Splits `https://<host><path>?<query>` into its path, if the host is ours.
fn our_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?.strip_prefix(MEDIA_HOST)?;
    Some(rest.split('?').next().unwrap_or(rest))
}

fn status(code: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status_code: code,
        body: body.as_bytes().to_vec(),
    }
}

#[async_trait]
impl HttpClient for FakeMediaCdn {
    async fn execute(&self, request: HttpRequest) -> anyhow::Result<HttpResponse> {
        let Some(path) = our_path(&request.url) else {
            anyhow::bail!(
                "the offline WhatsApp server refuses {} {}",
                request.method,
                request.url
            );
        };
        match request.method.as_str() {
            // Upload: `/mms/<kind>/<token>`; the blob is kept as encrypted.
            "POST" if path.starts_with("/mms/") => {
                let Some(token) = path.rsplit('/').next().filter(|t| !t.is_empty()) else {
                    return Ok(status(400, "no token"));
                };
                let body = request.body.map(|b| b.to_vec()).unwrap_or_default();
                let direct_path = format!("/v/blazz-fake/{token}");
                self.shared.state().media.insert(direct_path.clone(), body);
                let json = serde_json::json!({
                    "url": format!("https://{MEDIA_HOST}{direct_path}"),
                    "direct_path": direct_path,
                });
                Ok(HttpResponse {
                    status_code: 200,
                    body: json.to_string().into_bytes(),
                })
            }
            "GET" => match self.shared.state().media.get(path) {
                Some(blob) => Ok(HttpResponse {
                    status_code: 200,
                    body: blob.clone(),
                }),
                None => Ok(status(404, "not found")),
            },
            _ => Ok(status(405, "method not allowed")),
        }
    }
}
