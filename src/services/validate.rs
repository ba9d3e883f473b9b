//! Field validation with the messages of docs/api.md §1.4: required, non-empty, length limits.

use axum::http::StatusCode;

use crate::error::{AppError, FieldError};

/// Every field must be present and non-empty; otherwise `message` with one entry per offending field.
pub fn require_all(fields: &[(&str, Option<&str>)], message: &str) -> Result<(), AppError> {
    let errors: Vec<FieldError> = fields
        .iter()
        .filter_map(|(name, value)| match value {
            None => Some(FieldError::new(*name, format!("{name} is required"))),
            Some("") => Some(FieldError::new(*name, format!("{name} cannot be empty"))),
            Some(_) => None,
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(AppError::invalid(StatusCode::BAD_REQUEST, message, errors)) }
}

/// Provided fields must not be empty: 400 `<field> cannot be empty` (or `message` when given).
pub fn non_empty_if_present(fields: &[(&str, Option<&str>)], message: Option<&str>) -> Result<(), AppError> {
    let errors: Vec<FieldError> = fields
        .iter()
        .filter(|(_, value)| *value == Some(""))
        .map(|(name, _)| FieldError::new(*name, format!("{name} cannot be empty")))
        .collect();
    match errors.first() {
        None => Ok(()),
        Some(first) => {
            let message = message.map_or_else(|| first.message.clone(), str::to_owned);
            Err(AppError::invalid(StatusCode::BAD_REQUEST, message, errors))
        }
    }
}

/// 400 `<field> must be at most <max> characters` (Unicode scalar values).
pub fn max_chars(field: &str, value: Option<&str>, max: usize) -> Result<(), AppError> {
    match value {
        Some(v) if v.chars().count() > max => {
            Err(AppError::field(StatusCode::BAD_REQUEST, field, format!("{field} must be at most {max} characters")))
        }
        _ => Ok(()),
    }
}

/// 400 `<field> must be at most 72 bytes`: bcrypt ignores anything beyond.
pub fn password_length(field: &str, value: &str) -> Result<(), AppError> {
    if value.len() > 72 {
        return Err(AppError::field(StatusCode::BAD_REQUEST, field, format!("{field} must be at most 72 bytes")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_lists_missing_and_empty_fields_in_order() {
        let err =
            require_all(&[("a", None), ("b", Some("x")), ("c", Some(""))], "All fields are required").unwrap_err();
        assert_eq!(err.message, "All fields are required");
        assert_eq!(err.errors, vec![FieldError::new("a", "a is required"), FieldError::new("c", "c cannot be empty")]);
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(max_chars("title", Some("ééé"), 3).is_ok());
        assert_eq!(max_chars("title", Some("abcd"), 3).unwrap_err().message, "title must be at most 3 characters");
        assert!(password_length("password", &"é".repeat(36)).is_ok());
        assert!(password_length("password", &"é".repeat(37)).is_err());
    }
}
