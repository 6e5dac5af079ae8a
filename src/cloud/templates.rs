//! Meta message templates of Cloud numbers: listed from the store, synced
//! from the business account (every page), submitted for review, deleted,
//! their status followed from webhooks; and a template message's variables
//! checked against the stored template before Meta is asked.
//!
//! These extend the `template` message type: without a `language` it names
//! a canned reply rendered to text (any number); with one, it names one of
//! these (Cloud numbers only).

use std::collections::BTreeMap;

use blazz_cloud::{CloudError, ErrorAction, Param, TemplateDraft, TemplateMessage};
use blazz_domain::{AccountId, Role, WorkspaceId};
use blazz_store::accounts::Account;
use blazz_store::cloud::templates::{self as store, Template};
use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Reads `variables` as a list (`["Asha", "A12"]` fills `{{1}}`, `{{2}}`)
/// or as an object (`{"1": "Asha"}`, `{"name": "Asha"}`).
pub fn variables<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Map(BTreeMap<String, String>),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => BTreeMap::new(),
        Some(Either::List(l)) => l
            .into_iter()
            .enumerate()
            .map(|(i, v)| ((i + 1).to_string(), v))
            .collect(),
        Some(Either::Map(m)) => m,
    })
}

/// Positional variables in their order (`"2"` before `"10"`).
pub fn ordered(variables: &BTreeMap<String, String>) -> Vec<String> {
    let mut v: Vec<(&String, &String)> = variables.iter().collect();
    v.sort_by_key(|(k, _)| (k.parse::<u64>().unwrap_or(u64::MAX), (*k).clone()));
    v.into_iter().map(|(_, v)| v.clone()).collect()
}

fn ordered_keys(variables: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<String> = variables.keys().cloned().collect();
    keys.sort_by_key(|k| (k.parse::<u64>().unwrap_or(u64::MAX), k.clone()));
    keys
}

/// The stored template as the Cloud crate reads templates.
pub fn to_cloud(t: &Template) -> blazz_cloud::Template {
    blazz_cloud::Template {
        id: t.meta_id.clone().unwrap_or_default(),
        name: t.name.clone(),
        language: t.language.clone(),
        status: t.status.clone(),
        category: t.category.clone(),
        parameter_format: Some(t.parameter_format.clone()),
        components: t.components.as_array().cloned().unwrap_or_default(),
    }
}

/// The template message for `variables` (named by the template's
/// placeholders when it uses names).
pub fn message(t: &Template, variables: &BTreeMap<String, String>) -> TemplateMessage {
    let cloud = to_cloud(t);
    let mut m = TemplateMessage::positional(&t.name, &t.language, &ordered(variables));
    if cloud.is_named() {
        m.body = variables
            .iter()
            .map(|(k, v)| Param::named(k.clone(), v.clone()))
            .collect();
    }
    m
}

/// The template's body with the variables filled in: what the inbox shows.
pub fn render(t: &Template, variables: &BTreeMap<String, String>) -> String {
    let body = to_cloud(t)
        .components
        .iter()
        .find(|c| {
            c.get("type")
                .and_then(|v| v.as_str())
                .is_some_and(|k| k.eq_ignore_ascii_case("BODY"))
        })
        .and_then(|c| c.get("text").and_then(|v| v.as_str()))
        .unwrap_or_default()
        .to_string();
    let mut out = body;
    for (k, v) in variables {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    if out.trim().is_empty() {
        format!("[template {}]", t.name)
    } else {
        out
    }
}

/// Checks a template message for a Cloud number before anything is stored
/// or sent; answers the text it shows as.
pub async fn check_message(
    conn: &mut blazz_store::Conn,
    account: &Account,
    name: &str,
    language: &str,
    variables: &BTreeMap<String, String>,
) -> Result<String, ApiError> {
    let t = store::by_name(conn, account.workspace_id, account.id, name, language)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(
                "template_not_found",
                format!(
                    "this number has no template {name:?} in {language:?}; sync templates from Meta \
                     (POST /api/v1/accounts/{{id}}/templates/sync) or create it"
                ),
            )
        })?;
    if !t.status.eq_ignore_ascii_case("APPROVED") {
        return Err(ApiError::invalid(
            "template_not_approved",
            format!(
                "template {name:?} ({language}) is {}: Meta sends approved templates only",
                t.status.to_ascii_lowercase()
            ),
        ));
    }
    let cloud = to_cloud(&t);
    if !cloud.is_named() {
        // Positional values are {{1}}, {{2}}... with no gap: a list, or an
        // object numbered from 1.
        let numbered = ordered_keys(variables);
        let expected: Vec<String> = (1..=variables.len()).map(|n| n.to_string()).collect();
        if numbered != expected {
            return Err(ApiError::invalid(
                "template_variables_mismatch",
                format!(
                    "template {name:?} ({language}) takes its variables in order: give a list, or \
                     an object numbered 1 to n (got {})",
                    numbered.join(", ")
                ),
            ));
        }
    }
    message(&t, variables)
        .validate(&cloud)
        .map_err(|e| ApiError::invalid("template_variables_mismatch", e.to_string()))?;
    Ok(render(&t, variables))
}

/// An error of a Graph API call made for a client, Meta's words kept as
/// Meta's.
pub fn meta_error(e: CloudError) -> ApiError {
    match &e {
        CloudError::Graph(g) if g.action() == ErrorAction::Reauthenticate => ApiError::Conflict(
            "cloud_needs_reauth",
            format!("Meta refused the number's access token; give a new one. {g}"),
        ),
        CloudError::Graph(g) => ApiError::Conflict("meta_refused", format!("Meta refused: {g}")),
        CloudError::Invalid(m) => ApiError::invalid("invalid_template", m.clone()),
        _ => ApiError::Unavailable("graph_unreachable", e.to_string()),
    }
}

async fn cloud_number(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
) -> Result<(Account, blazz_cloud::CloudCredentials), ApiError> {
    let account = crate::services::numbers::find(state, caller, id).await?;
    if account.provider != "cloud" {
        return Err(ApiError::invalid(
            "not_a_cloud_number",
            "templates belong to Cloud API numbers",
        ));
    }
    let creds = super::numbers::credentials(state, caller.workspace_id, id)
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_cloud_credentials",
                "this number has no stored Cloud credentials",
            )
        })?;
    Ok((account, creds))
}

fn stored(ws: WorkspaceId, account: AccountId, t: blazz_cloud::Template) -> Template {
    Template {
        id: Uuid::now_v7(),
        workspace_id: ws,
        account_id: account,
        meta_id: (!t.id.is_empty()).then_some(t.id),
        name: t.name,
        language: t.language,
        category: t.category,
        status: t.status.to_ascii_uppercase(),
        parameter_format: t
            .parameter_format
            .unwrap_or_else(|| "POSITIONAL".into())
            .to_ascii_uppercase(),
        components: serde_json::Value::Array(t.components),
        reason: None,
        created_at: 0,
        updated_at: 0,
    }
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    account: Option<AccountId>,
) -> Result<Vec<Template>, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    if let Some(id) = account {
        blazz_store::accounts::find(&mut conn, caller.workspace_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("account_not_found", "account"))?;
    }
    Ok(store::list(&mut conn, caller.workspace_id, account).await?)
}

pub async fn find(state: &AppState, caller: &Caller, id: Uuid) -> Result<Template, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    store::find(&mut conn, caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("template_not_found", "template"))
}

/// Reads every template of the number's business account from Meta (all
/// pages) and stores them; answers the number's templates.
pub async fn sync(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
) -> Result<Vec<Template>, ApiError> {
    caller.require(Role::Admin)?;
    let (account, creds) = cloud_number(state, caller, id).await?;
    let graph = super::graph(state)?;
    let found = graph.templates(&creds).await.map_err(meta_error)?;
    let mut tx = state.db.begin().await?;
    for t in found {
        store::upsert(&mut tx, &stored(caller.workspace_id, account.id, t)).await?;
    }
    crate::services::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "templates.synced",
        ("account", id.to_string()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    let mut conn = state.db.pool.acquire().await?;
    Ok(store::list(&mut conn, caller.workspace_id, Some(account.id)).await?)
}

/// Submits a template to Meta for review and stores it (pending).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
    draft: TemplateDraft,
) -> Result<Template, ApiError> {
    caller.require(Role::Admin)?;
    let (account, creds) = cloud_number(state, caller, id).await?;
    let name_ok = !draft.name.is_empty()
        && draft.name.len() <= 512
        && draft
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(ApiError::invalid(
            "invalid_template",
            "a template name is lower-case letters, digits and underscores",
        ));
    }
    if !["MARKETING", "UTILITY", "AUTHENTICATION"].contains(&draft.category.as_str()) {
        return Err(ApiError::invalid(
            "invalid_template",
            "category is MARKETING, UTILITY or AUTHENTICATION",
        ));
    }
    if draft.language.trim().is_empty() || draft.components.is_empty() {
        return Err(ApiError::invalid(
            "invalid_template",
            "a template has a language and components (at least a BODY)",
        ));
    }
    let graph = super::graph(state)?;
    let created = graph
        .create_template(&creds, &draft)
        .await
        .map_err(meta_error)?;
    let t = blazz_cloud::Template {
        id: created.id,
        name: draft.name,
        language: draft.language,
        status: created.status.unwrap_or_else(|| "PENDING".into()),
        category: created.category.or(Some(draft.category)),
        parameter_format: draft.parameter_format,
        components: draft.components,
    };
    let mut tx = state.db.begin().await?;
    let saved = store::upsert(&mut tx, &stored(caller.workspace_id, account.id, t)).await?;
    crate::services::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "template.created",
        ("template", saved.id.to_string()),
        json!({"name": saved.name, "language": saved.language}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(saved)
}

/// Deletes a template at Meta (this language only) and here.
pub async fn delete(state: &AppState, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    caller.require(Role::Admin)?;
    let t = find(state, caller, id).await?;
    let (_, creds) = cloud_number(state, caller, t.account_id).await?;
    let graph = super::graph(state)?;
    match graph
        .delete_template(&creds, &t.name, t.meta_id.as_deref())
        .await
    {
        Ok(()) => {}
        // Already gone at Meta: forget it here too.
        Err(CloudError::Graph(g)) if g.code == 100 => {}
        Err(e) => return Err(meta_error(e)),
    }
    let mut tx = state.db.begin().await?;
    store::delete(&mut tx, caller.workspace_id, id).await?;
    crate::services::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "template.deleted",
        ("template", id.to_string()),
        json!({"name": t.name, "language": t.language}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_variables_keep_their_numeric_order() {
        let v: BTreeMap<String, String> =
            (1..=11).map(|i| (i.to_string(), format!("v{i}"))).collect();
        let o = ordered(&v);
        assert_eq!(o[1], "v2");
        assert_eq!(o[10], "v11");
    }

    #[test]
    fn variables_read_from_a_list_or_an_object() {
        #[derive(Deserialize)]
        struct W {
            #[serde(deserialize_with = "variables")]
            v: BTreeMap<String, String>,
        }
        let w: W = serde_json::from_str(r#"{"v":["a","b"]}"#).unwrap();
        assert_eq!(w.v["2"], "b");
        let w: W = serde_json::from_str(r#"{"v":{"name":"x"}}"#).unwrap();
        assert_eq!(w.v["name"], "x");
    }
}
