//! Error plumbing shared by every layer: a boxed cause, a message added on top of a cause, and the
//! display of a whole chain of causes. The error types themselves live with their layer
//! (`StoreError`, `MediaError`, `ServiceError`, and `AppError` at the HTTP edge).

use std::error::Error;
use std::fmt;

/// Any cause, kept as the `source` of the error that wraps it.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What was being done when `source` happened: shows `message`, and returns the cause as its source.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Context {
    message: String,
    #[source]
    source: BoxError,
}

impl Context {
    pub fn new(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Context { message: message.into(), source: source.into() }
    }
}

/// Shows an error and every cause under it as `outer: inner: innermost`. A cause whose text the
/// line already ends with is skipped (some errors print their source as well as return it).
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            if !line.ends_with(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = error.source();
        }
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading failed: {0}")]
    struct PrintsItsSource(#[from] std::io::Error);

    #[test]
    fn a_chain_shows_every_cause_once() {
        let io = std::io::Error::other("disk on fire");
        let error = Context::new("opening the store", PrintsItsSource(io));
        assert_eq!(Chain(&error).to_string(), "opening the store: reading failed: disk on fire");
        let message: BoxError = "no cause below".into();
        assert_eq!(Chain(&Context::new("top", message)).to_string(), "top: no cause below");
    }
}
