use super::DomainError;
use colloque_protocol::MAX_MESSAGE_CHARS;

/// The text of a message: trimmed, not empty, at most [`MAX_MESSAGE_CHARS`] characters, no NUL
/// character (PostgreSQL's text cannot hold one, and no message needs it).
///
/// Deliberately no `Debug` output of the content: message bodies are health data and must never
/// end up in logs, even by accident through `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// Trims `raw` and checks its length (counted in characters, not bytes, so that accented
    /// French text gets the same limit as ASCII).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DomainError::EmptyBody);
        }
        if trimmed.chars().count() > MAX_MESSAGE_CHARS {
            return Err(DomainError::BodyTooLong);
        }
        if trimmed.contains('\0') {
            return Err(DomainError::Invalid("the message contains a NUL character"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for MessageBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MessageBody({} chars)", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_trimmed() {
        assert_eq!(
            MessageBody::parse("  Bonjour \n").unwrap().as_str(),
            "Bonjour"
        );
    }

    #[test]
    fn an_empty_or_blank_body_is_rejected() {
        assert_eq!(MessageBody::parse(""), Err(DomainError::EmptyBody));
        assert_eq!(MessageBody::parse(" \t\n "), Err(DomainError::EmptyBody));
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        let accented = "é".repeat(MAX_MESSAGE_CHARS);
        assert!(accented.len() > MAX_MESSAGE_CHARS);
        assert!(MessageBody::parse(&accented).is_ok());
    }

    #[test]
    fn a_body_one_character_too_long_is_rejected() {
        let long = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(MessageBody::parse(&long), Err(DomainError::BodyTooLong));
    }

    #[test]
    fn white_space_around_a_long_body_does_not_count() {
        let body = format!("  {}  ", "a".repeat(MAX_MESSAGE_CHARS));
        assert!(MessageBody::parse(&body).is_ok());
    }

    #[test]
    fn a_nul_character_is_refused() {
        assert!(matches!(
            MessageBody::parse("a\0b"),
            Err(DomainError::Invalid(_))
        ));
    }

    #[test]
    fn debug_output_never_shows_the_text() {
        let body = MessageBody::parse("secret médical").unwrap();
        assert!(!format!("{body:?}").contains("secret"));
    }
}
