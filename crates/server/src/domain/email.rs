use super::DomainError;

/// An email address, trimmed and lowercased (the `users.email` column is unique on this form).
///
/// The check is deliberately shallow (one `@`, something on each side, a dot in the domain,
/// no white space): the only real validation of an address is sending mail to it, and accounts
/// are created by an administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// RFC 5321 path limit.
const MAX_EMAIL_LEN: usize = 254;

impl Email {
    /// Normalises and checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let email = raw.trim().to_lowercase();
        let invalid = DomainError::Invalid("not a valid email address");
        if email.is_empty()
            || email.len() > MAX_EMAIL_LEN
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid);
        };
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid);
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lowercased() {
        let email = Email::parse("  Dr.Martin@Colloque.TEST ").unwrap();
        assert_eq!(email.as_str(), "dr.martin@colloque.test");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for raw in [
            "",
            "   ",
            "no-at-sign",
            "@colloque.test",
            "a@b@colloque.test",
            "a@localhost",
            "a@.test",
            "a@colloque.",
            "a b@colloque.test",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be rejected");
        }
    }

    #[test]
    fn an_overlong_email_is_rejected() {
        let raw = format!("{}@colloque.test", "a".repeat(250));
        assert!(Email::parse(&raw).is_err());
    }
}
