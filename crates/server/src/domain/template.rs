use super::DomainError;
use colloque_protocol::{MAX_TEMPLATE_BODY_CHARS, MAX_TEMPLATE_TITLE_CHARS};

/// A reply template's title: trimmed, 1 to [`MAX_TEMPLATE_TITLE_CHARS`] characters, one line
/// (no control character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateTitle(String);

impl TemplateTitle {
    /// Trims `raw` and checks it.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DomainError::Invalid("the template's title is empty"));
        }
        if trimmed.chars().count() > MAX_TEMPLATE_TITLE_CHARS {
            return Err(DomainError::Invalid("the template's title is too long"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DomainError::Invalid(
                "the template's title must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reply template's body: trimmed, 1 to [`MAX_TEMPLATE_BODY_CHARS`] characters, no NUL
/// character (as a message: the text becomes one); its variables are kept as typed (the app
/// fills them). Its `Debug` output does not show the text (a template may hold health
/// information and must never end up in logs).
#[derive(Clone, PartialEq, Eq)]
pub struct TemplateBody(String);

impl TemplateBody {
    /// Trims `raw` and checks it.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DomainError::Invalid("the template's text is empty"));
        }
        if trimmed.chars().count() > MAX_TEMPLATE_BODY_CHARS {
            return Err(DomainError::Invalid("the template's text is too long"));
        }
        if trimmed.contains('\0') {
            return Err(DomainError::Invalid(
                "the template's text contains a NUL character",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TemplateBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TemplateBody({} chars)", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_trimmed_and_must_say_something_on_one_line() {
        assert_eq!(
            TemplateTitle::parse("  Résultats normaux ")
                .unwrap()
                .as_str(),
            "Résultats normaux"
        );
        assert!(TemplateTitle::parse("   ").is_err());
        assert!(TemplateTitle::parse("deux\nlignes").is_err());
    }

    #[test]
    fn lengths_are_counted_in_characters_not_bytes() {
        let title = "é".repeat(MAX_TEMPLATE_TITLE_CHARS);
        assert!(TemplateTitle::parse(&title).is_ok());
        assert!(TemplateTitle::parse(&format!("{title}é")).is_err());
        let body = "é".repeat(MAX_TEMPLATE_BODY_CHARS);
        assert!(TemplateBody::parse(&body).is_ok());
        assert!(TemplateBody::parse(&format!("{body}é")).is_err());
    }

    #[test]
    fn a_body_keeps_its_lines_and_variables() {
        let body = TemplateBody::parse("\nBonjour {prénom},\n\nÀ bientôt, {médecin}\n").unwrap();
        assert_eq!(body.as_str(), "Bonjour {prénom},\n\nÀ bientôt, {médecin}");
        assert!(TemplateBody::parse(" \n ").is_err());
        assert!(TemplateBody::parse("a\0b").is_err());
        assert_eq!(format!("{body:?}"), "TemplateBody(39 chars)");
    }
}
