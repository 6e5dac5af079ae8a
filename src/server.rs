//! Running Blazz: open the store, start workers and the outbox dispatcher,
//! serve HTTP until a shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use blazz_bus::{EventBus, InProcessBus};
use blazz_store::{Db, Dialect};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::jobs::{self, Registry};
use crate::outbox::Dispatcher;
use crate::state::AppState;

/// Opens the database named by the config, creating the data directory
/// for SQLite, and migrates it when configured to (always on SQLite).
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    if Dialect::from_url(&url)? == Dialect::Sqlite {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
    }
    let db = Db::connect(&url).await?;
    if db.dialect == Dialect::Sqlite || config.migrate_on_start {
        db.migrate().await?;
    }
    Ok(db)
}

/// A running Blazz: its address, state, and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops serving and the background tasks, waiting for them to finish
    /// what they are doing.
    pub async fn stop(self) {
        let teardown = self.state.config.sessions.teardown_timeout_secs;
        // Campaign runners first: they stay `running` in the store and are
        // restored by the next start.
        self.state.campaigns.stop_all();
        self.state.sessions.stop_all(teardown).await;
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

/// Starts everything on `listener`; returns once it is serving.
pub async fn start(
    config: Config,
    db: Db,
    registry: Registry,
    listener: TcpListener,
) -> anyhow::Result<Running> {
    start_with_bus(
        config,
        db,
        registry,
        listener,
        Arc::new(InProcessBus::default()),
    )
    .await
}

pub async fn start_with_bus(
    config: Config,
    db: Db,
    registry: Registry,
    listener: TcpListener,
    bus: Arc<dyn EventBus>,
) -> anyhow::Result<Running> {
    start_prepared(config, db, registry, listener, bus, Box::new(|_| {})).await
}

/// Runs on the new state before anything starts (numbers are restored
/// after it): tests and benchmarks put another WhatsApp server behind a
/// provider here.
pub type Prepare = Box<dyn FnOnce(&AppState) + Send>;

pub async fn start_prepared(
    config: Config,
    db: Db,
    registry: Registry,
    listener: TcpListener,
    bus: Arc<dyn EventBus>,
    prepare: Prepare,
) -> anyhow::Result<Running> {
    raise_fd_limit();
    let addr = listener.local_addr()?;
    let mut config = config;
    if config.public_url.is_none() {
        // Links name the address actually bound (port 0 is resolved now).
        config.public_url = Some(format!("http://{addr}"));
    }
    let state = AppState::new(db, bus, config)?;
    prepare(&state);
    let (shutdown, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    tasks.extend(jobs::worker::spawn(
        state.clone(),
        registry,
        state.config.jobs.workers,
        rx.clone(),
    ));
    if state.config.outbox.dispatch {
        let d = Dispatcher {
            db: state.db.clone(),
            bus: state.bus.clone(),
            wake: state.outbox_wake.clone(),
            poll: Duration::from_millis(state.config.outbox.poll_ms.max(1)),
            batch: state.config.outbox.batch.max(1),
        };
        tasks.push(tokio::spawn(d.run(rx.clone())));
        // The process that publishes events also turns them into webhook
        // deliveries (from the store, so none is missed).
        tasks.push(tokio::spawn(crate::webhooks::fanout::run(
            state.clone(),
            rx.clone(),
        )));
    }
    // Subscribed before anything can be published from this process.
    let events = state.bus.subscribe();
    tasks.push(tokio::spawn(crate::realtime::fanout::run(
        state.clone(),
        events,
        rx.clone(),
    )));
    state.sessions.start_writer(&state);
    tasks.push(tokio::spawn(crate::campaigns::scheduler::run(
        state.clone(),
        rx.clone(),
    )));
    match state.sessions.restore_all(&state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "restoring linked numbers"),
        Err(e) => tracing::error!(error = %format!("{e:#}"), "could not restore linked numbers"),
    }
    let app = crate::http::router(state.clone());
    let mut stop = rx.clone();
    tasks.push(tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the HTTP server stopped");
        }
    }));
    Ok(Running {
        addr,
        state,
        shutdown,
        tasks,
    })
}

/// `blazz serve`: runs until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let db = open_db(&config).await?;
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("listening on {}", config.addr))?;
    let running = start(config, db, Registry::builtin(), listener).await?;
    tracing::info!(addr = %running.addr, dialect = ?running.state.db.dialect, "Blazz is serving on http://{}", running.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Linked numbers, sockets and database connections are all file
/// descriptors: take the hard limit rather than the (often 1024) soft one.
fn raise_fd_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
}
