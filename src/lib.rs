//! Blazz: a self-hosted, multi-tenant WhatsApp business messaging platform.
//! This crate is the application: the `blazz` binary, its HTTP surface,
//! domain services, background workers and the benchmark harness.

pub mod auth;
pub mod bench;
pub mod bench_campaign;
pub mod bench_inbox;
pub mod bench_realtime;
pub mod bench_sessions;
#[cfg(feature = "offline-whatsapp")]
pub mod bench_web;
pub mod campaigns;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod i18n;
pub mod inbox;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod outbox;
pub mod realtime;
pub mod secrets;
pub mod server;
pub mod services;
pub mod sessions;
pub mod state;
pub mod telemetry;
pub mod webhooks;
