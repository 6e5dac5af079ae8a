//! Configuration: defaults that run, an optional TOML file, then `BLAZZ_*`
//! environment variables (nested keys joined by `__`, e.g.
//! `BLAZZ_JOBS__WORKERS=8`). Secrets are wrapped so that they never reach a
//! log line or a `Debug` print.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// A value that must not be printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where `serve` listens.
    pub addr: SocketAddr,
    /// Where the SQLite database and local files live.
    pub data_dir: PathBuf,
    /// `postgres://...` for PostgreSQL; unset means SQLite under `data_dir`.
    pub database_url: Option<Secret>,
    /// Run migrations when `serve` starts (SQLite always does).
    pub migrate_on_start: bool,
    /// The address people reach Blazz at, for links (invitations). Defaults
    /// to `http://{addr}`.
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    /// Allow anyone to create an account and workspace after the first run.
    pub signup_open: bool,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    pub http: HttpConfig,
    pub limits: RateLimits,
    pub jobs: JobsConfig,
    pub outbox: OutboxConfig,
    pub secrets: SecretsConfig,
    pub sessions: SessionsConfig,
    pub sandbox: SandboxConfig,
    pub contacts: ContactsConfig,
    pub media: MediaConfig,
    pub messages: MessagesConfig,
    pub webhooks: WebhooksConfig,
    pub realtime: RealtimeConfig,
    pub campaigns: CampaignsConfig,
    pub cloud: CloudConfig,
    pub web: WebConfig,
}

/// The Pusher-compatible realtime socket (see `docs/realtime.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeConfig {
    /// Sockets this process accepts at most (past it: 4100 over capacity).
    pub max_connections: usize,
    /// Told to clients; a socket silent this long is pinged, in seconds.
    pub activity_timeout_secs: u64,
    /// A pinged socket that does not answer within this is closed (4201).
    pub pong_timeout_secs: u64,
    /// Frames queued per socket; a client that falls this far behind is
    /// disconnected (4100) rather than buffered.
    pub send_queue: usize,
    /// Client events (`client-*`) a socket may send per second.
    pub client_events_per_second: u32,
    /// Largest event data (client events and the HTTP events API), in bytes.
    pub max_event_bytes: usize,
    /// Users in one presence channel at most.
    pub max_presence_members: usize,
    /// Channels one HTTP API event may name at most.
    pub max_event_channels: usize,
}

/// Outgoing webhooks (see `docs/webhooks.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Allow endpoints on private, loopback, link-local, CGNAT and other
    /// non-public addresses (development and tests only).
    pub allow_private_targets: bool,
    /// How long one delivery attempt may take, in seconds.
    pub timeout_secs: u64,
    /// Delay before each attempt of a delivery, in seconds (fractions
    /// allowed): the first is the first attempt, so the list's length is
    /// the number of attempts before a delivery is `failed`.
    pub retry_schedule_secs: Vec<f64>,
    /// An endpoint that fails every attempt for this long is disabled.
    pub disable_after_secs: u64,
    /// After a secret rotation, the previous secret keeps signing (a second
    /// signature) for this long.
    pub rotation_overlap_secs: u64,
    /// Finished deliveries are kept this long, in days.
    pub keep_days: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout_secs: 15,
            // Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
            retry_schedule_secs: vec![
                0.0, 5.0, 300.0, 1_800.0, 7_200.0, 18_000.0, 36_000.0, 36_000.0,
            ],
            disable_after_secs: 5 * 86_400,
            rotation_overlap_secs: 86_400,
            keep_days: 30,
        }
    }
}

/// WhatsApp Web numbers (see `docs/whatsapp-web.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Offer `web` numbers (linked by QR or pair code).
    pub enabled: bool,
    /// WhatsApp's WebSocket address; unset means WhatsApp's own.
    pub server_url: Option<String>,
    /// The name the phone lists the linked device under.
    pub device_name: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            server_url: None,
            device_name: "Blazz".into(),
        }
    }
}

/// Meta's WhatsApp Cloud API (see `docs/cloud.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudConfig {
    /// The Graph API's address (a fake one in tests).
    pub graph_url: String,
    /// The Graph API version every call uses.
    pub graph_version: String,
    /// Sends per second per Cloud number (Meta's throughput: 80 by default,
    /// 1,000 for upgraded numbers, 20 for coexistence numbers).
    pub messages_per_second: u32,
}

impl Default for CloudConfig {
    fn default() -> Self {
        Self {
            graph_url: "https://graph.facebook.com".into(),
            graph_version: "v23.0".into(),
            messages_per_second: 80,
        }
    }
}

/// Campaigns (see `docs/campaigns.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignsConfig {
    /// An inbound message that is one of these words (any case, trailing
    /// punctuation ignored) opts its contact out of every campaign.
    pub opt_out_keywords: Vec<String>,
    /// Pacing and the sandbox's ban model read a simulated clock that
    /// jumps ahead whenever a campaign waits: hours of paced sending take
    /// seconds. For tests and demonstrations with sandbox numbers only.
    pub simulated_clock: bool,
}

impl Default for CampaignsConfig {
    fn default() -> Self {
        Self {
            opt_out_keywords: ["STOP", "BERHENTI", "UNSUBSCRIBE", "STOP ALL"]
                .map(String::from)
                .to_vec(),
            simulated_clock: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagesConfig {
    /// How long a message may wait for its number to be reachable (retried
    /// with backoff meanwhile) before it is marked failed, in seconds.
    pub send_timeout_secs: u64,
}

impl Default for MessagesConfig {
    fn default() -> Self {
        Self {
            send_timeout_secs: 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactsConfig {
    /// ISO 3166 country (e.g. `GB`) for phone numbers written without
    /// their country code; unset: such numbers are refused.
    pub default_country: Option<String>,
}

/// Where media bytes are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MediaBackend {
    /// A folder on this machine (`local_dir`, default `data_dir/media`).
    #[default]
    Local,
    /// An S3 bucket, or an S3-compatible store (MinIO, R2, ...).
    S3,
}

/// Media storage and the size limits per kind (WhatsApp's by default).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    pub store: MediaBackend,
    /// The folder of the local store; unset: `data_dir/media`.
    pub local_dir: Option<PathBuf>,
    pub s3_bucket: Option<String>,
    /// Unset: `us-east-1` (what MinIO expects too).
    pub s3_region: Option<String>,
    /// For S3-compatible stores, e.g. `http://127.0.0.1:9000`; unset: AWS.
    pub s3_endpoint: Option<String>,
    /// Both or neither; neither: the ambient AWS credentials (instance
    /// profile, web identity).
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<Secret>,
    /// Allow a plain-HTTP endpoint (a MinIO on the same host).
    pub s3_allow_http: bool,
    /// Address the bucket as `endpoint/bucket/key` (MinIO) instead of
    /// `bucket.endpoint/key`.
    pub s3_path_style: bool,
    /// Largest accepted file per kind, in bytes.
    pub max_image_bytes: u64,
    pub max_video_bytes: u64,
    pub max_audio_bytes: u64,
    pub max_document_bytes: u64,
    pub max_sticker_bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    /// The master key (base64 of 32 bytes) that encrypts secrets at rest.
    /// Unset: a key is generated into `data_dir` on first run, with a warning.
    pub master_key: Option<Secret>,
    /// Earlier master keys, still used to open what they sealed (during a
    /// rotation of a configured master key); never used to seal.
    pub old_keys: Vec<Secret>,
    /// Read only by `blazz keys rotate`: the key to rotate to (same as
    /// `--new-key`, kept out of the process arguments).
    pub new_key: Option<Secret>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// Linked numbers this process keeps live at most (admission control).
    pub max_per_process: usize,
    /// Link attempts a workspace may start per hour.
    pub link_attempts_per_hour: u32,
    /// Reconnect backoff: first delay and cap, in milliseconds.
    pub reconnect_base_ms: u64,
    pub reconnect_cap_ms: u64,
    /// Failed reconnects in a row before the session is `failed`.
    pub max_reconnects: u32,
    /// A connected session with no traffic for this long is probed.
    pub idle_probe_secs: u64,
    /// How long a probe may take before the session reconnects.
    pub probe_timeout_secs: u64,
    /// Logout and teardown never take longer than this.
    pub teardown_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Whether sandbox accounts and their `/api/v1/sandbox/...` endpoints exist.
    pub enabled: bool,
    /// How long the first QR code lives, then each following one, in ms.
    pub qr_first_ms: u64,
    pub qr_rotate_ms: u64,
    /// QR codes shown before linking times out (`failed: qr_timeout`).
    pub qr_codes: u32,
    /// Delays before an outbound message is delivered, then read, in ms.
    pub delivered_after_ms: u64,
    pub read_after_ms: u64,
    /// Whether a sandbox number that messages contacts who never wrote to
    /// it faster than the limits below is banned, as WhatsApp bans real
    /// numbers (each number can be switched through the sandbox API).
    pub enforce_pacing: bool,
    /// The limits: messages to contacts who never wrote, per sliding
    /// minute, hour and day (Blazz's pacing defaults for `web` numbers).
    pub pacing_per_minute: u32,
    pub pacing_per_hour: u32,
    pub pacing_per_day: u32,
    /// How long a number that crossed a limit stays banned, in seconds.
    pub pacing_ban_secs: u64,
    /// A file where the network writes every message it accepts (one JSON
    /// line, written before the send is answered) and reads them back on
    /// start, so that a resend after a crash or restart is still the same
    /// message. Unset: the network remembers in memory only.
    pub journal: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// How long a browser session lasts, in hours.
    pub session_hours: i64,
    /// How long an invitation link stays valid, in hours.
    pub invitation_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Sign-in attempts per minute, per client address and per e-mail.
    pub login_per_minute: u32,
    /// Requests per minute per API token.
    pub api_per_minute: u32,
    /// Failed token authentications per minute per client address.
    pub bad_token_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Worker tasks in this process (0 disables job processing here).
    pub workers: usize,
    /// Jobs a worker leases per claim.
    pub batch: i64,
    /// Seconds a lease lasts before another worker may take the job.
    pub lease_secs: i64,
    /// How often an idle worker looks for due jobs, in milliseconds.
    pub poll_ms: u64,
    /// First retry delay and the cap of the exponential backoff, in seconds.
    pub retry_base_secs: u64,
    pub retry_cap_secs: u64,
    /// How long finished jobs (and their idempotency keys) are kept, in hours.
    pub keep_done_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Whether this process publishes committed events to the bus.
    pub dispatch: bool,
    pub poll_ms: u64,
    pub batch: i64,
    /// How long published events are kept, in hours.
    pub keep_published_hours: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            migrate_on_start: true,
            public_url: None,
            log_format: LogFormat::Text,
            signup_open: false,
            secure_cookies: false,
            http: HttpConfig::default(),
            limits: RateLimits::default(),
            jobs: JobsConfig::default(),
            outbox: OutboxConfig::default(),
            secrets: SecretsConfig::default(),
            sessions: SessionsConfig::default(),
            sandbox: SandboxConfig::default(),
            contacts: ContactsConfig::default(),
            media: MediaConfig::default(),
            messages: MessagesConfig::default(),
            webhooks: WebhooksConfig::default(),
            realtime: RealtimeConfig::default(),
            campaigns: CampaignsConfig::default(),
            cloud: CloudConfig::default(),
            web: WebConfig::default(),
        }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            store: MediaBackend::Local,
            local_dir: None,
            s3_bucket: None,
            s3_region: None,
            s3_endpoint: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            s3_path_style: true,
            max_image_bytes: 5_000_000,
            max_video_bytes: 16_000_000,
            max_audio_bytes: 16_000_000,
            max_document_bytes: 100_000_000,
            max_sticker_bytes: 500_000,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            session_hours: 24 * 14,
            invitation_hours: 24 * 7,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_per_minute: 10,
            api_per_minute: 600,
            bad_token_per_minute: 30,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            workers: 4,
            batch: 16,
            lease_secs: 60,
            poll_ms: 250,
            retry_base_secs: 2,
            retry_cap_secs: 600,
            keep_done_hours: 24 * 7,
        }
    }
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            max_per_process: 20_000,
            link_attempts_per_hour: 5,
            reconnect_base_ms: 1_000,
            reconnect_cap_ms: 60_000,
            max_reconnects: 10,
            idle_probe_secs: 120,
            probe_timeout_secs: 10,
            teardown_timeout_secs: 30,
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            qr_first_ms: 60_000,
            qr_rotate_ms: 20_000,
            qr_codes: 6,
            delivered_after_ms: 500,
            read_after_ms: 2_000,
            enforce_pacing: true,
            pacing_per_minute: 20,
            pacing_per_hour: 500,
            pacing_per_day: 5_000,
            pacing_ban_secs: 3_600,
            journal: None,
        }
    }
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        Self {
            max_connections: 20_000,
            activity_timeout_secs: 120,
            pong_timeout_secs: 30,
            send_queue: 1_000,
            client_events_per_second: 10,
            max_event_bytes: 10_240,
            max_presence_members: 100,
            max_event_channels: 100,
        }
    }
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            dispatch: true,
            poll_ms: 200,
            batch: 256,
            keep_published_hours: 24,
        }
    }
}

impl Config {
    /// Defaults, then the TOML file (if given), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        // Variables that are command options, not configuration.
        let not_config = ["config", "new_user_password", "bench_postgres_url"];
        figment = figment.merge(Env::prefixed("BLAZZ_").ignore(&not_config).split("__"));
        Ok(figment.extract()?)
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_string(),
            None => blazz_store::db::sqlite_url(&self.data_dir),
        }
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.addr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = Config {
            database_url: Some(Secret::new("postgres://u:hunter2@db/blazz")),
            ..Config::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn defaults_run_on_sqlite_under_data() {
        let config = Config::default();
        assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
        assert!(config
            .database_url()
            .starts_with("sqlite://./data/blazz.db"));
    }

    #[test]
    fn toml_file_is_read_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "signup_open = true\n[jobs]\nworkers = 9\n").unwrap();
        let config = Config::load(Some(&good)).unwrap();
        assert!(config.signup_open);
        assert_eq!(config.jobs.workers, 9);

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[jobs]\nwokers = 9\n").unwrap();
        assert!(Config::load(Some(&bad)).is_err());
    }

    #[test]
    fn media_defaults_to_the_local_folder_and_reads_s3_settings() {
        let config = Config::default();
        assert_eq!(config.media.store, MediaBackend::Local);
        assert_eq!(config.media.max_image_bytes, 5_000_000);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s3.toml");
        std::fs::write(
            &file,
            "[media]\nstore = \"s3\"\ns3_bucket = \"blazz\"\ns3_secret_access_key = \"hunter2\"\nmax_sticker_bytes = 100000\n",
        )
        .unwrap();
        let config = Config::load(Some(&file)).unwrap();
        assert_eq!(config.media.store, MediaBackend::S3);
        assert_eq!(config.media.s3_bucket.as_deref(), Some("blazz"));
        assert_eq!(config.media.max_sticker_bytes, 100_000);
        assert!(!format!("{config:?}").contains("hunter2"));
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[media]\ns3_bukket = \"x\"\n").unwrap();
        assert!(Config::load(Some(&bad)).is_err());
    }
}
