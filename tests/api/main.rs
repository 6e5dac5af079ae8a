//! Blazz from the outside: the real app, a real database (SQLite, or
//! PostgreSQL with TEST_DATABASE=postgres), real HTTP.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

mod helpers;

mod engine;

mod auth;
mod browser;
mod campaigns;
mod campaigns_pacing;
mod canned;
mod cloud;
mod cloud_failover;
mod cloud_templates;
mod cloud_webhooks;
mod contacts;
mod contacts_io;
mod crash;
mod crash_campaign;
mod errors;
mod health;
mod inbox;
mod jobs;
mod media;
mod members;
mod numbers;
mod outbox;
mod realtime;
pub mod restart;
mod sandbox;
mod schema;
mod secrets;
mod tenancy;
mod web;
mod web_campaigns;
mod web_client;
mod web_contacts;
mod web_inbox;
mod web_settings;
mod webhooks;
mod whatsapp_web;
