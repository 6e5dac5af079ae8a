//! Campaigns (issue "Campaigns that reach everyone once"): a message sent
//! to an audience from a set of numbers without getting them banned.
//!
//! - `spec`: what a campaign is made of, as clients write it;
//! - `service`: create, change, start, pause, resume, cancel, delete;
//! - `planner`: the audience becomes recipient rows, once;
//! - `runner` + `dispatch`: the engine that paces each number and hands
//!   recipients over, exactly once, through the inbox's send path;
//! - `stats`: the statistics and the `campaign.progress` event;
//! - `replies`: what an inbound message means for campaigns (a reply, an
//!   opt-out);
//! - `scheduler`: starts scheduled campaigns and brings running ones back
//!   after a restart.
//!
//! The pacers and the runners live in this process (`Campaigns`); with
//! several instances a campaign runs where it was started or restored.

pub mod dispatch;
pub mod planner;
pub mod replies;
pub mod runner;
pub mod scheduler;
pub mod service;
pub mod spec;
pub mod stats;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use blazz_domain::campaign::Pacer;
use blazz_domain::{AccountId, CampaignId, WorkspaceId};
use blazz_provider::clock::Clock;
use blazz_store::campaigns::numbers::CampaignNumber;
use tokio::sync::Notify;

use crate::error::ApiError;
use crate::state::AppState;

/// The campaigns running in this process and the pacers of their numbers.
pub struct Campaigns {
    /// What pacing reads (the sandbox's ban model reads the same clock).
    pub clock: Arc<dyn Clock>,
    runners: Mutex<HashMap<CampaignId, Arc<Handle>>>,
    /// One pacer per number, shared by every campaign it sends for.
    pacers: Mutex<HashMap<AccountId, Pacer>>,
    /// Numbers whose owner is chatting from the phone, until when.
    owner_busy: Mutex<HashMap<AccountId, i64>>,
}

/// A running campaign's controls.
pub struct Handle {
    pub stop: AtomicBool,
    pub wake: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How long campaign sends from a number pause after its owner wrote from
/// the phone itself.
pub const OWNER_PAUSE_MS: i64 = 5 * 60_000;

impl Campaigns {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Campaigns {
            clock,
            runners: Mutex::default(),
            pacers: Mutex::default(),
            owner_busy: Mutex::default(),
        }
    }

    /// Starts the campaign's runner here unless one runs already.
    pub fn run(&self, state: &AppState, ws: WorkspaceId, id: CampaignId) {
        let mut runners = lock(&self.runners);
        if runners.contains_key(&id) {
            return;
        }
        let handle = Arc::new(Handle {
            stop: AtomicBool::new(false),
            wake: Notify::new(),
        });
        runners.insert(id, handle.clone());
        tokio::spawn(runner::run(state.clone(), ws, id, handle));
    }

    /// Tells the campaign's runner to stop (it was paused or cancelled).
    pub fn stop(&self, id: CampaignId) {
        if let Some(h) = lock(&self.runners).remove(&id) {
            h.stop.store(true, std::sync::atomic::Ordering::SeqCst);
            h.wake.notify_one();
        }
    }

    /// Stops every runner of this process (shutting down); their campaigns
    /// stay running in the store.
    pub fn stop_all(&self) {
        for (_, h) in lock(&self.runners).drain() {
            h.stop.store(true, std::sync::atomic::Ordering::SeqCst);
            h.wake.notify_one();
        }
    }

    /// A runner ended by itself.
    fn finished(&self, id: CampaignId, handle: &Arc<Handle>) {
        let mut runners = lock(&self.runners);
        if runners.get(&id).is_some_and(|h| Arc::ptr_eq(h, handle)) {
            runners.remove(&id);
        }
    }

    pub fn running(&self) -> usize {
        lock(&self.runners).len()
    }

    fn pacers(&self) -> MutexGuard<'_, HashMap<AccountId, Pacer>> {
        lock(&self.pacers)
    }

    /// Makes sure each number has a pacer, remembering its recent sends;
    /// a number already pacing for another campaign keeps its record.
    async fn prepare_pacers(
        &self,
        state: &AppState,
        numbers: &[CampaignNumber],
        settings: &spec::Settings,
    ) -> Result<(), ApiError> {
        for n in numbers {
            let ws = match self.workspace_of(state, n.account_id).await? {
                Some(ws) => ws,
                None => continue,
            };
            let fresh = runner::pacer_for(state, n.account_id, ws, settings).await?;
            let mut pacers = self.pacers();
            match pacers.get_mut(&n.account_id) {
                Some(p) => p.set_pacing(fresh.limits(), fresh.gap()),
                None => {
                    pacers.insert(n.account_id, fresh);
                }
            }
        }
        Ok(())
    }

    async fn workspace_of(
        &self,
        state: &AppState,
        account: AccountId,
    ) -> Result<Option<WorkspaceId>, ApiError> {
        let mut conn = state.db.pool.acquire().await?;
        Ok(blazz_store::accounts::workspace_of(&mut conn, account).await?)
    }

    /// The owner of `account` wrote from the phone at `at`.
    pub fn owner_active(&self, account: AccountId, at: i64) {
        lock(&self.owner_busy).insert(account, at + OWNER_PAUSE_MS);
    }

    fn owner_busy(&self, account: AccountId, now: i64) -> bool {
        lock(&self.owner_busy)
            .get(&account)
            .is_some_and(|until| *until > now)
    }
}
