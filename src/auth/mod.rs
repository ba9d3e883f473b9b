//! Authentication primitives: password hashing, JWT issue/verify, and the server's signing secrets.

pub mod password;
pub mod secrets;
pub mod tokens;

pub use password::PasswordHasher;
pub use tokens::{TokenError, TokenKind, Tokens};
