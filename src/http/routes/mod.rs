//! Route handlers, one module per resource. Each handler extracts, calls one service method, wraps.

pub mod health;
pub mod users;
pub mod videos;
