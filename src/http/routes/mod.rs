//! Route handlers, one module per area, each with the request shapes it reads (their schema rules
//! and their conversion into the services' input). Each handler extracts, calls the services,
//! wraps the result. Shapes several areas read are in `shared`.

pub mod blocks;
pub mod comments;
pub mod dashboard;
pub mod health;
pub mod history;
pub mod likes;
pub mod moderation;
pub mod notifications;
pub mod playlists;
pub mod processing;
pub mod reports;
pub mod roles;
pub mod search;
pub mod sessions;
mod shared;
pub mod subscriptions;
pub mod tweets;
pub mod uploads;
pub mod users;
pub mod videos;

use super::openapi::ShapeRule;

/// The rules of every area's request shapes that their derives cannot state (`openapi::complete`).
pub const SHAPE_RULES: [&[ShapeRule]; 4] =
    [users::SHAPE_RULES, sessions::SHAPE_RULES, videos::SHAPE_RULES, playlists::SHAPE_RULES];
