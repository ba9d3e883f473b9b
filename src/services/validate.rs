//! Field validation with the messages of docs/api.md §1.4: required, non-empty, length limits.

use super::{FieldError, ServiceError};

/// Every field must be present and non-empty; otherwise `message` with one entry per offending field.
pub fn require_all(fields: &[(&str, Option<&str>)], message: &str) -> Result<(), ServiceError> {
    let errors: Vec<FieldError> = fields
        .iter()
        .filter_map(|(name, value)| match value {
            None => Some(FieldError::new(*name, format!("{name} is required"))),
            Some("") => Some(FieldError::new(*name, format!("{name} cannot be empty"))),
            Some(_) => None,
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(ServiceError::invalid_fields(message, errors)) }
}

/// Provided fields must not be empty: `<field> cannot be empty` (or `message` when given).
pub fn non_empty_if_present(fields: &[(&str, Option<&str>)], message: Option<&str>) -> Result<(), ServiceError> {
    let errors: Vec<FieldError> = fields
        .iter()
        .filter(|(_, value)| *value == Some(""))
        .map(|(name, _)| FieldError::new(*name, format!("{name} cannot be empty")))
        .collect();
    match errors.first() {
        None => Ok(()),
        Some(first) => {
            let message = message.map_or_else(|| first.message.clone(), str::to_owned);
            Err(ServiceError::invalid_fields(message, errors))
        }
    }
}

/// `<field> must be at most <max> characters` (Unicode scalar values).
pub fn max_chars(field: &str, value: Option<&str>, max: usize) -> Result<(), ServiceError> {
    match value {
        Some(v) if v.chars().count() > max => {
            Err(ServiceError::invalid_field(field, format!("{field} must be at most {max} characters")))
        }
        _ => Ok(()),
    }
}

/// The `content` of a comment or tweet: required, non-empty and at most `max` characters.
pub fn required_content(content: Option<&str>, max: usize) -> Result<String, ServiceError> {
    let content = match content {
        None => return Err(ServiceError::invalid_field("content", "Content is required")),
        Some("") => return Err(ServiceError::invalid_field("content", "Content is required")),
        Some(c) => c,
    };
    max_chars("content", Some(content), max)?;
    Ok(content.to_owned())
}

/// `<field> must be at most 72 bytes`: bcrypt ignores anything beyond.
pub fn password_length(field: &str, value: &str) -> Result<(), ServiceError> {
    if value.len() > 72 {
        return Err(ServiceError::invalid_field(field, format!("{field} must be at most 72 bytes")));
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
        let ServiceError::Invalid { message, errors } = err else { panic!("not an invalid input: {err:?}") };
        assert_eq!(message, "All fields are required");
        assert_eq!(errors, vec![FieldError::new("a", "a is required"), FieldError::new("c", "c cannot be empty")]);
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(max_chars("title", Some("ééé"), 3).is_ok());
        assert_eq!(max_chars("title", Some("abcd"), 3).unwrap_err().to_string(), "title must be at most 3 characters");
        assert!(password_length("password", &"é".repeat(36)).is_ok());
        assert!(password_length("password", &"é".repeat(37)).is_err());
    }
}
