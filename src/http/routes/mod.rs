//! Route handlers, one module per area. Each handler extracts, calls the services, wraps the result.

pub mod account;
pub mod channels;
pub mod health;
pub mod social;
pub mod tus;
pub mod uploads;
pub mod users;
pub mod videos;
