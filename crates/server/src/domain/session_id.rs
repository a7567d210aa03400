/// A session id: random, carried as the token's `sid`, revoked by logout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(pub String);

impl SessionId {
    /// 122 random bits from the OS generator (UUID v4), in simple hex form.
    pub fn generate() -> Self {
        SessionId(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// A new session's public name ([`colloque_protocol::SessionHandle`]): random too, so that it tells nothing
/// about the session id, the account or the order of logins.
pub fn new_session_handle() -> colloque_protocol::SessionHandle {
    colloque_protocol::SessionHandle(uuid::Uuid::new_v4().simple().to_string())
}

/// A session's public name as a client wrote it (a path segment): what
/// [`new_session_handle`] makes, lowercase hex, or nothing. It goes into a cookie's `Path`, so
/// nothing else may pass.
pub fn parse_session_handle(raw: &str) -> Option<colloque_protocol::SessionHandle> {
    let well_formed = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then(|| colloque_protocol::SessionHandle(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_handle_parses_and_anything_else_does_not() {
        let handle = new_session_handle();
        assert_eq!(parse_session_handle(&handle.0), Some(handle));
        for raw in ["", "ABC", "a;b", "a b", "../x", "g", &"a".repeat(65)] {
            assert_eq!(parse_session_handle(raw), None, "{raw:?}");
        }
    }
}
