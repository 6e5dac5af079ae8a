//! The numbers a campaign sends from: each one's weight (its share of the
//! sends) and, while it stops sending for the campaign, why and until when.

use blazz_domain::{AccountId, CampaignId};

use crate::{parse_id, Conn};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignNumber {
    pub account_id: AccountId,
    pub weight: u32,
    pub paused_reason: Option<String>,
    pub paused_until: Option<i64>,
}

/// Replaces the campaign's numbers.
pub async fn set(
    conn: &mut Conn,
    campaign: CampaignId,
    numbers: &[(AccountId, u32)],
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM campaign_numbers WHERE campaign_id = $1")
        .bind(campaign.to_string())
        .execute(&mut *conn)
        .await?;
    for (account, weight) in numbers {
        sqlx::query(
            "INSERT INTO campaign_numbers (campaign_id, account_id, weight) VALUES ($1, $2, $3)",
        )
        .bind(campaign.to_string())
        .bind(account.to_string())
        .bind(i64::from(*weight))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn list(conn: &mut Conn, campaign: CampaignId) -> anyhow::Result<Vec<CampaignNumber>> {
    let rows: Vec<(String, i64, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT account_id, weight, paused_reason, paused_until FROM campaign_numbers \
         WHERE campaign_id = $1 ORDER BY account_id",
    )
    .bind(campaign.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(a, w, reason, until)| {
            Ok(CampaignNumber {
                account_id: parse_id(&a)?,
                weight: u32::try_from(w).unwrap_or(0),
                paused_reason: reason,
                paused_until: until,
            })
        })
        .collect()
}

/// Records why a number stopped sending for the campaign (and until when,
/// if it resumes by itself); `None` clears it.
pub async fn set_pause(
    conn: &mut Conn,
    campaign: CampaignId,
    account: AccountId,
    pause: Option<(&str, Option<i64>)>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE campaign_numbers SET paused_reason = $1, paused_until = $2 \
         WHERE campaign_id = $3 AND account_id = $4",
    )
    .bind(pause.map(|(r, _)| r.to_string()))
    .bind(pause.and_then(|(_, until)| until))
    .bind(campaign.to_string())
    .bind(account.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
