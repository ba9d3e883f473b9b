//! The API test suite: one binary driving the real server over HTTP, as a client would.

mod fixtures;
mod helpers;

mod account;
mod adversarial;
mod architecture;
mod backup;
mod cloudinary;
mod docs;
mod early_refusals;
mod edge;
mod failures;
mod fake_cloudinary;
mod full_disk;
mod hardening;
mod instances;
mod media;
mod migrate;
mod moderation;
mod notifications;
mod original_database;
mod outages;
mod placeholders;
mod processing;
mod resilience;
mod search;
mod shutdown;
mod social;
mod store_story;
mod threads;
mod trending;
mod tus;
mod users;
mod videos;
mod visibility;
