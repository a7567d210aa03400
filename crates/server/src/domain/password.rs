use super::DomainError;
use secrecy::{ExposeSecret, SecretString};

/// A new account password. Wrapped in [`SecretString`] so it is zeroised on drop and never
/// printed by `Debug`.
#[derive(Debug)]
pub struct Password(SecretString);

/// Short passwords are guessable; NIST SP 800-63B asks for at least 8 characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Long enough for any passphrase, short enough that hashing it is not a denial of service.
pub const MAX_PASSWORD_BYTES: usize = 1024;

impl Password {
    /// Checks the length of a password chosen for a new account. (Login does not parse: it
    /// must answer "invalid credentials" for anything that does not match, whatever its shape.)
    pub fn parse(raw: SecretString) -> Result<Self, DomainError> {
        let text = raw.expose_secret();
        if text.chars().count() < MIN_PASSWORD_CHARS {
            return Err(DomainError::Invalid(
                "the password must have at least 8 characters",
            ));
        }
        if text.len() > MAX_PASSWORD_BYTES {
            return Err(DomainError::Invalid("the password is too long"));
        }
        Ok(Self(raw))
    }

    /// The secret, for hashing.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_password_is_rejected() {
        assert!(Password::parse(SecretString::from("1234567")).is_err());
    }

    #[test]
    fn the_demo_password_is_accepted() {
        assert!(Password::parse(SecretString::from("colloque-demo")).is_ok());
    }

    #[test]
    fn an_enormous_password_is_rejected() {
        let raw = "p".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(Password::parse(SecretString::from(raw)).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let password = Password::parse(SecretString::from("colloque-demo")).unwrap();
        assert!(!format!("{password:?}").contains("colloque-demo"));
    }
}
