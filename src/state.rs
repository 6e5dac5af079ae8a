//! What every request handler and background task shares.

use std::sync::Arc;

use blazz_bus::EventBus;
use blazz_store::Db;
use tokio::sync::Notify;

use crate::auth::ratelimit::RateLimiter;
use crate::config::Config;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub bus: Arc<dyn EventBus>,
    pub config: Config,
    pub metrics: Metrics,
    pub limits: Limiters,
    /// Woken when a job is enqueued in this process, so workers need not poll.
    pub jobs_wake: Arc<Notify>,
    /// Woken when an outbox event is committed in this process.
    pub outbox_wake: Arc<Notify>,
    /// The master keys that seal provider credentials (reloads after a
    /// `blazz keys rotate` in another process).
    pub keyring: Arc<crate::secrets::LiveKeyring>,
    /// The live sessions of linked numbers owned by this process.
    pub sessions: crate::sessions::Sessions,
    /// Where media bytes are kept (a local folder, or S3).
    pub media: crate::media::MediaStore,
    /// One sender per chat at a time (keeps a chat's messages in order).
    pub inbox: crate::inbox::ChatLocks,
    /// The realtime sockets of this process and the Pusher apps they use.
    pub realtime: crate::realtime::Realtime,
    /// Outgoing webhooks: the HTTP client and one lock per endpoint.
    pub webhooks: crate::webhooks::Webhooks,
    /// Running campaigns and the pacers of their numbers.
    pub campaigns: crate::campaigns::Campaigns,
}

pub struct Limiters {
    pub login: RateLimiter,
    pub api: RateLimiter,
    pub bad_token: RateLimiter,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, bus: Arc<dyn EventBus>, config: Config) -> anyhow::Result<Self> {
        let limits = Limiters {
            login: RateLimiter::per_minute(config.limits.login_per_minute),
            api: RateLimiter::per_minute(config.limits.api_per_minute),
            bad_token: RateLimiter::per_minute(config.limits.bad_token_per_minute),
        };
        let clock: Arc<dyn blazz_provider::clock::Clock> = if config.campaigns.simulated_clock {
            Arc::new(blazz_provider::clock::SimulatedClock::new())
        } else {
            Arc::new(blazz_provider::clock::SystemClock)
        };
        let sessions = crate::sessions::Sessions::new(&config, clock.clone());
        let keyring = Arc::new(crate::secrets::LiveKeyring::load(
            &config.secrets,
            &config.data_dir,
        )?);
        if config.web.enabled {
            sessions.install_provider(Arc::new(crate::sessions::web::provider(
                &db,
                keyring.clone(),
                &config.web,
                blazz_wa::WebOptions::default(),
            )));
        }
        let media = crate::media::MediaStore::from_config(&config)?;
        let metrics = Metrics::new()?;
        let realtime = crate::realtime::Realtime::new(&config.realtime, &metrics);
        let webhooks = crate::webhooks::Webhooks::new(&config.webhooks)?;
        Ok(Self(Arc::new(Inner {
            db,
            bus,
            metrics,
            config,
            limits,
            jobs_wake: Arc::new(Notify::new()),
            outbox_wake: Arc::new(Notify::new()),
            keyring,
            sessions,
            media,
            inbox: crate::inbox::ChatLocks::default(),
            realtime,
            webhooks,
            campaigns: crate::campaigns::Campaigns::new(clock),
        })))
    }

    /// Call after committing a transaction that enqueued jobs or wrote
    /// outbox events: the local worker and dispatcher start at once.
    pub fn committed(&self) {
        self.jobs_wake.notify_waiters();
        self.outbox_wake.notify_one();
    }
}
