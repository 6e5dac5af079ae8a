//! One running campaign: picks the next recipients in plan order, the
//! number for each by weighted round-robin among the numbers that may send
//! now (connected, not paused, their pacer ready), and hands them over in
//! batches (`dispatch`). When every recipient is settled it completes the
//! campaign.
//!
//! A number that is disconnected or banned, whose owner is chatting from
//! the phone, or whose recent sends fail or get blocked too often sends
//! nothing for the campaign; the reason is kept on the campaign's number
//! and its share moves to the others.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blazz_domain::campaign::health::{self, Outcomes, Thresholds};
use blazz_domain::campaign::pacer::typing_ms;
use blazz_domain::campaign::{CampaignStatus, Gap, Limits, NumberPause, Pacer, Rotation};
use blazz_domain::{AccountId, CampaignId, SessionState, WorkspaceId};
use blazz_store::campaigns::numbers::{self, CampaignNumber};
use blazz_store::campaigns::recipients::{self, Recipient};
use blazz_store::campaigns::{self as store, Campaign};
use blazz_store::contacts::{self, Contact};
use blazz_store::{accounts, audit::Actor};
use chrono::Timelike;

use super::dispatch::{self, Pick};
use super::spec::{self, PacingMode, Settings};
use super::{stats, Handle};
use crate::error::ApiError;
use crate::inbox::body::Body;
use crate::state::AppState;

const BATCH: usize = 64;
const FETCH: i64 = 512;
const REFRESH: Duration = Duration::from_secs(1);
const DAY_MS: i64 = 86_400_000;

/// Runs the campaign until it is no longer running here.
pub(super) async fn run(state: AppState, ws: WorkspaceId, id: CampaignId, handle: Arc<Handle>) {
    let mut run = match Run::load(&state, ws, id).await {
        Ok(Some(r)) => r,
        Ok(None) => return state.campaigns.finished(id, &handle),
        Err(e) => {
            tracing::error!(campaign.id = %id, error = %format!("{e:#}"), "a campaign could not start");
            return state.campaigns.finished(id, &handle);
        }
    };
    loop {
        if handle.stop.load(Ordering::SeqCst) {
            break;
        }
        match run.step(&state, &handle).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                tracing::warn!(campaign.id = %id, error = %format!("{e:#}"), "a campaign step failed; retrying");
                run.buffer.clear();
                run.cursor = 0;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = handle.wake.notified() => {}
                }
            }
        }
    }
    state.campaigns.finished(id, &handle);
}

struct Run {
    campaign: Campaign,
    body: Body,
    settings: Settings,
    numbers: Vec<CampaignNumber>,
    rotation: Rotation<AccountId>,
    /// Which numbers may send for the campaign now.
    open: HashMap<AccountId, bool>,
    /// Web numbers show "typing…" before a campaign message.
    typing: HashMap<AccountId, bool>,
    /// When each number was linked (its warm-up follows its age).
    linked_at: HashMap<AccountId, Option<i64>>,
    buffer: VecDeque<Recipient>,
    contacts: HashMap<String, Contact>,
    cursor: i64,
    /// A recipient was left for later (outside their sending window).
    deferred: Option<i64>,
    refreshed: Option<Instant>,
}

impl Run {
    async fn load(
        state: &AppState,
        ws: WorkspaceId,
        id: CampaignId,
    ) -> anyhow::Result<Option<Run>> {
        let mut conn = state.db.pool.acquire().await?;
        let Some(campaign) = store::find(&mut conn, ws, id).await? else {
            return Ok(None);
        };
        let numbers = numbers::list(&mut conn, id).await?;
        let body: Body = serde_json::from_value(campaign.message.clone())?;
        let settings: Settings = serde_json::from_value(campaign.settings.clone())?;
        let mut typing = HashMap::new();
        let mut linked_at = HashMap::new();
        for n in &numbers {
            let account = accounts::find(&mut conn, ws, n.account_id).await?;
            let kind = account
                .as_ref()
                .map(|a| a.provider.as_str())
                .unwrap_or_default();
            typing.insert(n.account_id, settings.typing && kind == "web");
            linked_at.insert(n.account_id, account.and_then(|a| a.linked_at));
        }
        drop(conn);
        state
            .campaigns
            .prepare_pacers(state, &numbers, &settings)
            .await?;
        Ok(Some(Run {
            rotation: Rotation::new(numbers.iter().map(|n| (n.account_id, n.weight))),
            campaign,
            body,
            settings,
            numbers,
            open: HashMap::new(),
            typing,
            linked_at,
            buffer: VecDeque::new(),
            contacts: HashMap::new(),
            cursor: 0,
            deferred: None,
            refreshed: None,
        }))
    }

    /// One round: refresh what may send, fill the buffer, dispatch a
    /// batch or wait. False once the campaign is no longer running.
    async fn step(&mut self, state: &AppState, handle: &Handle) -> anyhow::Result<bool> {
        if self.refreshed.is_none_or(|t| t.elapsed() >= REFRESH) && !self.refresh(state).await? {
            return Ok(false);
        }
        if self.buffer.is_empty() && !self.fill(state).await? {
            return self.settle(state, handle).await;
        }
        let clock = state.campaigns.clock.clone();
        let now = clock.now_ms();
        let mut picks = Vec::new();
        let mut opens_at: Option<i64> = None;
        // Whether a recipient waits for a number (rather than for a window).
        let mut paced = false;
        {
            let mut pacers = state.campaigns.pacers();
            while picks.len() < BATCH {
                let Some(r) = self.buffer.front() else { break };
                let contact = self.contacts.get(&r.phone);
                if let Some(at) = self.closed_until(contact, now) {
                    opens_at = Some(opens_at.map_or(at, |o| o.min(at)));
                    self.deferred = Some(self.deferred.map_or(at, |d| d.min(at)));
                    self.buffer.pop_front();
                    continue;
                }
                let open = &self.open;
                let Some(account) = self.rotation.next(|a| {
                    open.get(&a).copied().unwrap_or(false)
                        && pacers.get(&a).is_some_and(|p| p.ready(now))
                }) else {
                    paced = true;
                    break;
                };
                if let Some(p) = pacers.get_mut(&account) {
                    p.record(now, &mut rand::thread_rng());
                }
                let Some(recipient) = self.buffer.pop_front() else {
                    break;
                };
                let delay_ms = match self.typing.get(&account) {
                    Some(true) if !clock.is_simulated() => {
                        typing_ms(dispatch::text_len(&self.body), &mut rand::thread_rng())
                    }
                    _ => 0,
                };
                let contact = self.contacts.get(&recipient.phone).cloned();
                picks.push(Pick {
                    recipient,
                    account,
                    contact,
                    delay_ms,
                });
            }
        }
        if picks.is_empty() {
            self.wait(state, handle, now, paced, opens_at).await;
            return Ok(true);
        }
        for p in picks.iter().filter(|p| p.delay_ms > 0) {
            let _ = state
                .sessions
                .typing(p.account, &p.recipient.phone, true)
                .await;
        }
        match dispatch::commit(state, &self.campaign, &self.body, &picks, now).await {
            Ok(sent) => {
                if clock.is_simulated() {
                    settle_before_time_moves(state, &sent).await?;
                    // Hours pass between two refreshes of real time: look
                    // at the numbers' health after every batch instead.
                    self.refreshed = None;
                }
                Ok(true)
            }
            Err(e) => {
                // Nothing of the batch was stored: take it again from the store.
                self.buffer.clear();
                self.cursor = picks.iter().map(|p| p.recipient.seq).min().unwrap_or(1) - 1;
                Err(anyhow::anyhow!("dispatching a batch: {e}"))
            }
        }
    }

    /// Re-reads the campaign and its numbers; false if it stopped running.
    async fn refresh(&mut self, state: &AppState) -> anyhow::Result<bool> {
        self.refreshed = Some(Instant::now());
        let (ws, id) = (self.campaign.workspace_id, self.campaign.id);
        let mut conn = state.db.pool.acquire().await?;
        let Some(c) = store::find(&mut conn, ws, id).await? else {
            return Ok(false);
        };
        if c.status != CampaignStatus::Running {
            return Ok(false);
        }
        let counts = recipients::counts(&mut conn, id).await?;
        let mut stored = HashMap::new();
        for n in &self.numbers {
            if let Some(a) = accounts::find(&mut conn, ws, n.account_id).await? {
                stored.insert(n.account_id, a.status);
            }
        }
        drop(conn);
        let now = state.campaigns.clock.now_ms();
        let mut outcomes: HashMap<String, Outcomes> = HashMap::new();
        for c in &counts {
            let Some(a) = &c.account_id else { continue };
            let o = outcomes.entry(a.clone()).or_default();
            let n = u32::try_from(c.count).unwrap_or(u32::MAX);
            match c.status.as_str() {
                "sent" | "delivered" | "read" | "replied" => o.sent += n,
                "failed" if c.reason.as_deref().is_some_and(is_block) => o.blocked += n,
                "failed" => o.failed += n,
                _ => {}
            }
        }
        {
            // A number's warm-up moves on with its age.
            let mut pacers = state.campaigns.pacers();
            for (a, linked) in &self.linked_at {
                let (limits, gap) =
                    pacing_for(&self.settings, linked.map(|at| (now - at) / DAY_MS));
                if let Some(p) = pacers.get_mut(a) {
                    p.set_pacing(limits, gap);
                }
            }
        }
        for n in self.numbers.clone() {
            let a = n.account_id;
            let session = state
                .sessions
                .shared(a)
                .map(|s| s.state())
                .or(stored.get(&a).copied());
            let pause = pause_of(
                state,
                a,
                session,
                now,
                outcomes.get(&a.to_string()).copied(),
            );
            self.open.insert(a, pause.is_none());
            let reason = pause.map(NumberPause::as_str);
            if reason != n.paused_reason.as_deref() {
                let mut w = state.db.write().await?;
                numbers::set_pause(&mut w, id, a, reason.map(|r| (r, None))).await?;
                if let Some(slot) = self.numbers.iter_mut().find(|x| x.account_id == a) {
                    slot.paused_reason = reason.map(str::to_string);
                }
            }
        }
        Ok(true)
    }

    /// Reads the next queued recipients (and their contacts); false when
    /// none is left to send now.
    async fn fill(&mut self, state: &AppState) -> anyhow::Result<bool> {
        let id = self.campaign.id;
        let mut conn = state.db.pool.acquire().await?;
        let mut batch = recipients::next_queued(&mut conn, id, self.cursor, FETCH).await?;
        if batch.is_empty() && self.cursor > 0 && self.deferred.is_some() {
            // Back to the start for the ones left outside their window.
            self.cursor = 0;
            self.deferred = None;
            batch = recipients::next_queued(&mut conn, id, 0, FETCH).await?;
        }
        drop(conn);
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(false);
        };
        let range = (first.seq, last.seq);
        if self.settings.cooldown_hours > 0 {
            let now = state.campaigns.clock.now_ms();
            let since = now - i64::from(self.settings.cooldown_hours) * 3_600_000;
            let mut w = state.db.write().await?;
            let skipped = recipients::skip_recently_messaged(&mut w, id, range, since, now).await?;
            drop(w);
            if skipped > 0 {
                let mut conn = state.db.pool.acquire().await?;
                batch = recipients::next_queued(&mut conn, id, self.cursor, FETCH).await?;
            }
        }
        self.cursor = batch.last().map_or(range.1, |r| r.seq);
        let phones: Vec<String> = batch.iter().map(|r| r.phone.clone()).collect();
        let mut conn = state.db.pool.acquire().await?;
        self.contacts = contacts::by_phones(&mut conn, self.campaign.workspace_id, &phones)
            .await?
            .into_iter()
            .map(|c| (c.phone.clone(), c))
            .collect();
        self.buffer = batch.into();
        Ok(!self.buffer.is_empty())
    }

    /// Nothing queued is left to send now: complete the campaign once every
    /// recipient is settled, or wait for the sends under way.
    async fn settle(&mut self, state: &AppState, handle: &Handle) -> anyhow::Result<bool> {
        let (ws, id) = (self.campaign.workspace_id, self.campaign.id);
        if let Some(at) = self.deferred {
            let now = state.campaigns.clock.now_ms();
            self.wait(state, handle, now, false, Some(at)).await;
            return Ok(true);
        }
        let mut conn = state.db.pool.acquire().await?;
        let unsettled = recipients::unsettled(&mut conn, id).await?;
        drop(conn);
        if unsettled > 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = handle.wake.notified() => {}
            }
            return Ok(true);
        }
        let mut tx = state.db.begin().await?;
        let now = blazz_store::now_ms();
        let done = CampaignStatus::Completed;
        if store::set_status(&mut tx, ws, id, CampaignStatus::Running, done, now).await? {
            let actor = Actor {
                kind: "system",
                id: None,
                name: "Blazz".into(),
            };
            crate::services::record(
                &mut tx,
                ws,
                &actor,
                "campaign.completed",
                ("campaign", id.to_string()),
                serde_json::json!({"from": "running", "to": done}),
            )
            .await?;
            stats::publish(&mut tx, ws, id, done).await?;
        }
        tx.commit().await?;
        state.committed();
        Ok(false)
    }

    /// Waits until a number may send again (when `paced`: a recipient waits
    /// for one) or a window opens, at most a refresh interval of real time;
    /// woken early by a pause or cancel.
    async fn wait(
        &self,
        state: &AppState,
        handle: &Handle,
        now: i64,
        paced: bool,
        opens_at: Option<i64>,
    ) {
        let clock = state.campaigns.clock.clone();
        let next_send = if !paced {
            None
        } else {
            let pacers = state.campaigns.pacers();
            self.numbers
                .iter()
                .filter(|n| self.open.get(&n.account_id).copied().unwrap_or(false))
                .filter_map(|n| pacers.get(&n.account_id).map(|p| p.next_at(now)))
                .min()
        };
        let wake_at = match (next_send, opens_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match wake_at {
            // No number can send: wait for one to reconnect (real time).
            None => {
                tokio::select! {
                    _ = tokio::time::sleep(REFRESH) => {}
                    _ = handle.wake.notified() => {}
                }
            }
            Some(at) if clock.is_simulated() => clock.sleep_until(at).await,
            Some(at) => {
                let cap = now + REFRESH.as_millis() as i64;
                tokio::select! {
                    _ = clock.sleep_until(at.min(cap)) => {}
                    _ = handle.wake.notified() => {}
                }
            }
        }
    }

    /// When `contact`'s sending window opens, if it is closed at `now`.
    fn closed_until(&self, contact: Option<&Contact>, now: i64) -> Option<i64> {
        let window = self.settings.window.as_ref()?;
        let (start, end) = (
            spec::parse_hhmm(&window.start).ok()?,
            spec::parse_hhmm(&window.end).ok()?,
        );
        let zone = contact
            .and_then(|c| c.fields.get("time_zone"))
            .and_then(|v| v.as_str())
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .or_else(|| spec::time_zone(self.settings.time_zone.as_deref()).ok())
            .unwrap_or(chrono_tz::UTC);
        let local = chrono::DateTime::from_timestamp_millis(now)?.with_timezone(&zone);
        let minute = local.hour() * 60 + local.minute();
        let open = if start < end {
            (start..end).contains(&minute)
        } else {
            minute >= start || minute < end
        };
        if open {
            return None;
        }
        let wait_min = (i64::from(start) - i64::from(minute)).rem_euclid(1_440);
        let into_minute =
            i64::from(local.second()) * 1_000 + i64::from(local.timestamp_subsec_millis());
        Some(now + wait_min * 60_000 - into_minute)
    }
}

/// Why `account` may not send for the campaign now, if it may not: its
/// session (the live one's state, else the stored one), its owner at the
/// phone, or its recent outcomes.
fn pause_of(
    state: &AppState,
    account: AccountId,
    session: Option<SessionState>,
    now: i64,
    outcomes: Option<Outcomes>,
) -> Option<NumberPause> {
    match session {
        Some(SessionState::Connected) => {}
        Some(SessionState::Banned) => return Some(NumberPause::Banned),
        _ => return Some(NumberPause::Disconnected),
    }
    if state.campaigns.owner_busy(account, now) {
        return Some(NumberPause::OwnerActive);
    }
    health::verdict(outcomes.unwrap_or_default(), Thresholds::default())
}

fn is_block(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("block") || r.contains("not on whatsapp") || r.contains("spam")
}

/// On a simulated clock, the messages just stored are taken by the network
/// before time moves on, so the network stamps them with the time the
/// pacer sent them at (on the system clock the two agree by themselves).
async fn settle_before_time_moves(
    state: &AppState,
    sent: &[blazz_domain::MessageId],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    for id in sent {
        loop {
            let mut conn = state.db.pool.acquire().await?;
            let pending = blazz_store::messages::is_pending(&mut conn, *id).await?;
            drop(conn);
            if !pending || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    Ok(())
}

/// The pacer limits and gap for a number under these settings: the
/// defaults less a new number's warm-up, or none with pacing off.
pub fn pacing_for(settings: &Settings, linked_days_ago: Option<i64>) -> (Limits, Gap) {
    match settings.pacing {
        PacingMode::Off => (Limits::NONE, Gap::NONE),
        PacingMode::Default => {
            let age = linked_days_ago.unwrap_or(0).clamp(0, 365) as u32;
            (Limits::WEB.warmed_up(age), Gap::WEB)
        }
    }
}

/// A pacer for `account` remembering its campaign sends of the last day.
pub async fn pacer_for(
    state: &AppState,
    account: AccountId,
    ws: WorkspaceId,
    settings: &Settings,
) -> Result<Pacer, ApiError> {
    let now = state.campaigns.clock.now_ms();
    let mut conn = state.db.pool.acquire().await?;
    let linked = accounts::find(&mut conn, ws, account)
        .await?
        .and_then(|a| a.linked_at)
        .map(|at| (now - at) / DAY_MS);
    let (limits, gap) = pacing_for(settings, linked);
    let history = recipients::sent_times(&mut conn, account, now - DAY_MS).await?;
    Ok(Pacer::with_history(limits, gap, history))
}
