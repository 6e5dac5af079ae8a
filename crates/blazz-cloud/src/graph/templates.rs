//! Template management through the Graph API (contracts A4): every page of
//! a business account's templates, submitting one, deleting one.

use reqwest::Method;
use serde_json::Value;

use super::Graph;
use crate::config::CloudCredentials;
use crate::error::CloudError;
use crate::template::{CreatedTemplate, Template, TemplateDraft};

/// Templates asked for per page.
const PAGE_SIZE: &str = "100";
/// A business account has at most a few thousand templates: a longer walk
/// is a paging loop.
const MAX_PAGES: usize = 200;

impl Graph {
    /// Every template of the number's business account, following
    /// `paging.next` to the last page.
    pub async fn templates(&self, creds: &CloudCredentials) -> Result<Vec<Template>, CloudError> {
        let first = self
            .config
            .url(&format!("{}/message_templates", creds.business_account_id));
        let mut builder = self
            .request(Method::GET, &first, creds)
            .query(&[("limit", PAGE_SIZE)]);
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.json(builder).await?;
            for item in page
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match serde_json::from_value::<Template>(item.clone()) {
                    Ok(t) => out.push(t),
                    Err(e) => tracing::warn!(error = %e, "skipped an unreadable template"),
                }
            }
            let next = page
                .pointer("/paging/next")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty());
            let Some(next) = next else { return Ok(out) };
            if seen.iter().any(|s: &String| s == next) {
                return Ok(out);
            }
            seen.push(next.to_string());
            builder = if self.is_ours(next) {
                self.request(Method::GET, next, creds)
            } else {
                // The token goes only to the configured Graph API: a next
                // page elsewhere is asked for by its cursor, here.
                let Some(after) = page
                    .pointer("/paging/cursors/after")
                    .and_then(Value::as_str)
                else {
                    return Ok(out);
                };
                self.request(Method::GET, &first, creds)
                    .query(&[("limit", PAGE_SIZE), ("after", after)])
            };
        }
        Err(CloudError::Unexpected(format!(
            "templates span more than {MAX_PAGES} pages"
        )))
    }

    /// Whether `url` is on the configured Graph API host.
    fn is_ours(&self, url: &str) -> bool {
        let base = self.config.base();
        url.strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Submits a template for Meta's review.
    pub async fn create_template(
        &self,
        creds: &CloudCredentials,
        draft: &TemplateDraft,
    ) -> Result<CreatedTemplate, CloudError> {
        let url = self
            .config
            .url(&format!("{}/message_templates", creds.business_account_id));
        let v = self
            .json(self.request(Method::POST, &url, creds).json(draft))
            .await?;
        serde_json::from_value(v)
            .map_err(|e| CloudError::Unexpected(format!("unreadable template answer: {e}")))
    }

    /// Deletes a template: every language of `name`, or only the one with
    /// `template_id`.
    pub async fn delete_template(
        &self,
        creds: &CloudCredentials,
        name: &str,
        template_id: Option<&str>,
    ) -> Result<(), CloudError> {
        let url = self
            .config
            .url(&format!("{}/message_templates", creds.business_account_id));
        let mut query = vec![("name", name)];
        if let Some(id) = template_id {
            query.push(("hsm_id", id));
        }
        self.json(self.request(Method::DELETE, &url, creds).query(&query))
            .await?;
        Ok(())
    }
}
