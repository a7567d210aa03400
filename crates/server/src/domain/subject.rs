use super::DomainError;
use colloque_protocol::MAX_SUBJECT_CHARS;

/// A conversation subject: trimmed, at most [`MAX_SUBJECT_CHARS`] characters; a blank or
/// missing subject becomes [`Subject::DEFAULT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    /// The subject used when none is given.
    pub const DEFAULT: &'static str = "Nouvelle conversation";

    /// Trims `raw`, defaulting when absent or blank.
    pub fn parse(raw: Option<&str>) -> Result<Self, DomainError> {
        let trimmed = raw.map(str::trim).unwrap_or_default();
        if trimmed.is_empty() {
            return Ok(Self(Self::DEFAULT.to_owned()));
        }
        if trimmed.chars().count() > MAX_SUBJECT_CHARS {
            return Err(DomainError::Invalid("the subject is too long"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DomainError::Invalid(
                "the subject must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The subject.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_blank_subject_gets_the_default() {
        assert_eq!(Subject::parse(None).unwrap().as_str(), Subject::DEFAULT);
        assert_eq!(
            Subject::parse(Some("  ")).unwrap().as_str(),
            Subject::DEFAULT
        );
    }

    #[test]
    fn a_subject_is_trimmed() {
        assert_eq!(
            Subject::parse(Some(" Suivi tension ")).unwrap().as_str(),
            "Suivi tension"
        );
    }

    #[test]
    fn an_overlong_subject_is_rejected() {
        let raw = "s".repeat(MAX_SUBJECT_CHARS + 1);
        assert!(Subject::parse(Some(&raw)).is_err());
        assert!(Subject::parse(Some(&raw[1..])).is_ok());
    }

    #[test]
    fn a_subject_with_a_newline_is_rejected() {
        assert!(Subject::parse(Some("ligne\nautre")).is_err());
    }
}
