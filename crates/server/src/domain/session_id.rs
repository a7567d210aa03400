/// A session id: random, carried as the token's `sid`, revoked by logout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(pub String);

impl SessionId {
    /// 122 random bits from the OS generator (UUID v4), in simple hex form.
    pub fn generate() -> Self {
        SessionId(uuid::Uuid::new_v4().simple().to_string())
    }
}
