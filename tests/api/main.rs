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
mod canned;
mod contacts;
mod contacts_io;
mod errors;
mod health;
mod jobs;
mod members;
mod numbers;
mod outbox;
mod restart;
mod sandbox;
mod schema;
mod secrets;
mod tenancy;
mod web;
