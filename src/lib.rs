//! videotube: a video-sharing REST API compatible with the VideoTube (chai-backend) API.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod auth;
pub mod backup;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod media;
pub mod migrate;
pub mod priority;
pub mod services;
pub mod store;
pub mod telemetry;
