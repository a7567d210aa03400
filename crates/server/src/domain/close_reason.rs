use super::DomainError;
use colloque_protocol::MAX_CLOSE_REASON_CHARS;

/// Why a doctor closed a conversation, as the patient will read it in the thread: trimmed,
/// 1 to [`MAX_CLOSE_REASON_CHARS`] characters, one paragraph (line breaks and tabs allowed,
/// no other control characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason(String);

impl CloseReason {
    /// Trims `raw` and checks it.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DomainError::Invalid("closing takes a reason"));
        }
        if trimmed.chars().count() > MAX_CLOSE_REASON_CHARS {
            return Err(DomainError::Invalid("the reason is too long"));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(DomainError::Invalid(
                "the reason must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The reason.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_trimmed_and_required() {
        assert_eq!(
            CloseReason::parse("  Ordonnance envoyée. ")
                .unwrap()
                .as_str(),
            "Ordonnance envoyée."
        );
        assert!(CloseReason::parse(" \n ").is_err());
    }

    #[test]
    fn a_reason_is_at_most_five_hundred_characters_of_text() {
        let long = "é".repeat(MAX_CLOSE_REASON_CHARS);
        assert!(CloseReason::parse(&long).is_ok());
        assert!(CloseReason::parse(&format!("{long}x")).is_err());
        assert!(CloseReason::parse("fin\u{0}").is_err());
        assert!(CloseReason::parse("Résultats normaux.\nÀ revoir dans un an.").is_ok());
    }
}
