//! A campaign's statistics from its recipients, and the `campaign.progress`
//! event that carries them to browsers and webhooks.
//!
//! The counts are a funnel: `sent` counts every recipient the network took
//! (sent, delivered, read or replied), `delivered` those that reached the
//! phone or further, `read` those read or replied.

use std::collections::BTreeMap;

use blazz_domain::campaign::CampaignStatus;
use blazz_domain::{CampaignId, WorkspaceId};
use blazz_store::campaigns::recipients::{self, Count};
use blazz_store::{outbox, Conn};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Stats {
    pub total: i64,
    /// Planned, not handed to a number yet.
    pub queued: i64,
    /// Handed to a number, not taken by the network yet.
    pub sending: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub replied: i64,
    pub failed: i64,
    pub skipped: i64,
    pub failed_by_reason: BTreeMap<String, i64>,
    pub skipped_by_reason: BTreeMap<String, i64>,
    /// The same funnel per number (account id).
    pub by_number: BTreeMap<String, NumberStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct NumberStats {
    pub sending: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub replied: i64,
    pub failed: i64,
}

impl Stats {
    pub fn from_counts(counts: &[Count]) -> Stats {
        let mut s = Stats::default();
        for c in counts {
            let n = c.count;
            s.total += n;
            let reason = c.reason.clone().unwrap_or_else(|| "unknown".into());
            let mut per = NumberStats::default();
            let status = c.status.as_str();
            match status {
                "queued" => s.queued += n,
                "sending" => per.sending += n,
                "sent" | "delivered" | "read" | "replied" => {
                    per.sent += n;
                    if status != "sent" {
                        per.delivered += n;
                    }
                    if status == "read" || status == "replied" {
                        per.read += n;
                    }
                    if status == "replied" {
                        per.replied += n;
                    }
                }
                "failed" => {
                    per.failed += n;
                    *s.failed_by_reason.entry(reason).or_default() += n;
                }
                "skipped" => {
                    s.skipped += n;
                    *s.skipped_by_reason.entry(reason).or_default() += n;
                }
                _ => {}
            }
            s.sending += per.sending;
            s.sent += per.sent;
            s.delivered += per.delivered;
            s.read += per.read;
            s.replied += per.replied;
            s.failed += per.failed;
            if let Some(account) = &c.account_id {
                let e = s.by_number.entry(account.clone()).or_default();
                e.sending += per.sending;
                e.sent += per.sent;
                e.delivered += per.delivered;
                e.read += per.read;
                e.replied += per.replied;
                e.failed += per.failed;
            }
        }
        s
    }
}

pub async fn of(conn: &mut Conn, id: CampaignId) -> anyhow::Result<Stats> {
    Ok(Stats::from_counts(&recipients::counts(conn, id).await?))
}

/// Writes `campaign.progress` with the campaign's status and statistics.
pub async fn publish(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: CampaignId,
    status: CampaignStatus,
) -> anyhow::Result<Stats> {
    let stats = of(conn, id).await?;
    outbox::append(
        conn,
        Some(ws),
        "campaign.progress",
        &json!({"campaign_id": id.to_string(), "status": status, "stats": stats}),
    )
    .await?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(status: &str, reason: Option<&str>, account: Option<&str>, n: i64) -> Count {
        Count {
            status: status.into(),
            reason: reason.map(str::to_string),
            account_id: account.map(str::to_string),
            count: n,
        }
    }

    #[test]
    fn counts_become_a_funnel_with_reasons_and_numbers() {
        let s = Stats::from_counts(&[
            count("queued", None, None, 10),
            count("sent", None, Some("a"), 3),
            count("delivered", None, Some("a"), 2),
            count("read", None, Some("b"), 4),
            count("replied", None, Some("b"), 1),
            count("failed", Some("blocked"), Some("b"), 2),
            count("skipped", Some("opted_out"), None, 5),
        ]);
        assert_eq!(s.total, 27);
        assert_eq!(
            (s.queued, s.sent, s.delivered, s.read, s.replied),
            (10, 10, 7, 5, 1)
        );
        assert_eq!((s.failed, s.skipped), (2, 5));
        assert_eq!(s.failed_by_reason["blocked"], 2);
        assert_eq!(s.skipped_by_reason["opted_out"], 5);
        assert_eq!(s.by_number["a"].sent, 5);
        assert_eq!(s.by_number["b"].read, 5);
        assert_eq!(s.by_number["b"].failed, 2);
    }
}
