use crate::config::MIN_SECRET_BYTES;
use colloque_protocol::{Role, Timestamp, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// The `iss` claim of every token.
pub const ISSUER: &str = "colloque";
/// The `aud` claim of every access token.
pub const AUDIENCE: &str = "colloque-app";
/// The `aud` claim of a login's MFA challenge: never accepted as an access token, and an
/// access token is never accepted as a challenge.
pub const MFA_AUDIENCE: &str = "colloque-mfa";

/// A login's MFA challenge: who gave the right password, until when.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChallengeClaims {
    sub: String,
    iss: String,
    aud: String,
    exp: u64,
    nbf: u64,
    iat: u64,
}

/// Access-token claims. Times are seconds since the epoch, as RFC 7519 requires.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string (RFC 7519 `sub` is a string).
    pub sub: String,
    /// The user's role, checked again against the database on every request.
    pub role: Role,
    /// The session id; revoking the session kills the token.
    pub sid: String,
    /// The session's generation when the token was issued; a refresh moves the session to the
    /// next one, and the token stops working shortly after (`auth::refresh`).
    pub r#gen: i64,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// Expiry.
    pub exp: u64,
    /// Not before.
    pub nbf: u64,
    /// Issued at.
    pub iat: u64,
}

impl Claims {
    /// The user id in `sub`, if it is one.
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok().map(UserId)
    }

    /// `exp` in milliseconds.
    pub fn expires_at(&self) -> Timestamp {
        Timestamp(i64::try_from(self.exp).unwrap_or(i64::MAX / 1000) * 1000)
    }
}

/// A freshly signed token.
pub struct IssuedToken {
    /// The JWT.
    pub token: String,
    /// When it expires.
    pub expires_at: Timestamp,
}

/// Signs and verifies access tokens. HS256 only: the algorithm is pinned on both sides, so a
/// token claiming `none`, RS256 or anything else is refused before its signature is looked at.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    challenge_validation: Validation,
    ttl_secs: u64,
}

impl TokenService {
    /// Builds the service from the signing secret.
    pub fn new(secret: &SecretString, ttl_secs: u64) -> anyhow::Result<Self> {
        let bytes = secret.expose_secret().as_bytes();
        anyhow::ensure!(
            bytes.len() >= MIN_SECRET_BYTES,
            "the JWT secret must be at least {MIN_SECRET_BYTES} bytes long"
        );
        anyhow::ensure!(ttl_secs > 0, "the token lifetime must be positive");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // Tolerates small clock differences between the issuing and verifying moments only;
        // both happen on this server.
        validation.leeway = 5;
        let mut challenge_validation = validation.clone();
        challenge_validation.set_audience(&[MFA_AUDIENCE]);
        Ok(Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            challenge_validation,
            ttl_secs,
        })
    }

    /// How long new tokens live.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Signs a token for this user and session (at `generation`), living [`Self::ttl_secs`]
    /// but never past `session_end` (the session's absolute end).
    pub fn issue(
        &self,
        user: UserId,
        role: Role,
        sid: &str,
        generation: i64,
        session_end: Timestamp,
    ) -> anyhow::Result<IssuedToken> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let end = u64::try_from(session_end.0 / 1000).unwrap_or(0);
        let exp = (now + self.ttl_secs).min(end);
        anyhow::ensure!(exp > now, "the session has ended");
        let claims = Claims {
            sub: user.0.to_string(),
            role,
            sid: sid.to_owned(),
            r#gen: generation,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            exp,
            nbf: now,
            iat: now,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(IssuedToken {
            token,
            expires_at: claims.expires_at(),
        })
    }

    /// Signs a login's MFA challenge for `user`, living `ttl_secs`: good for
    /// `POST /api/auth/login/mfa` only.
    pub fn issue_challenge(&self, user: UserId, ttl_secs: u64) -> anyhow::Result<IssuedToken> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = ChallengeClaims {
            sub: user.0.to_string(),
            iss: ISSUER.to_owned(),
            aud: MFA_AUDIENCE.to_owned(),
            exp: now + ttl_secs,
            nbf: now,
            iat: now,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(IssuedToken {
            token,
            expires_at: Timestamp(i64::try_from(claims.exp).unwrap_or(i64::MAX / 1000) * 1000),
        })
    }

    /// The user of a valid, unexpired MFA challenge (the same checks as an access token's,
    /// with the challenge's audience); `None` for anything else, access tokens included.
    pub fn verify_challenge(&self, token: &str) -> Option<UserId> {
        let data = jsonwebtoken::decode::<ChallengeClaims>(
            token,
            &self.decoding,
            &self.challenge_validation,
        )
        .ok()?;
        if data.header.typ.as_deref() != Some("JWT") {
            return None;
        }
        data.claims.sub.parse().ok().map(UserId)
    }

    /// Verifies signature, algorithm, `typ`, issuer, audience and time claims.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        if data.header.typ.as_deref() != Some("JWT") {
            return Err(jsonwebtoken::errors::ErrorKind::InvalidToken.into());
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(&SecretString::from("x".repeat(32)), 60).unwrap()
    }

    const FAR: Timestamp = Timestamp(i64::MAX / 2);

    #[test]
    fn a_token_never_outlives_its_session() {
        let tokens = service();
        let now_ms = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap();
        let issued = tokens
            .issue(
                UserId(7),
                Role::Doctor,
                "abc",
                0,
                Timestamp(now_ms + 20_000),
            )
            .unwrap();
        assert!(issued.expires_at.0 <= now_ms + 20_000);
        assert!(
            tokens
                .issue(UserId(7), Role::Doctor, "abc", 0, Timestamp(now_ms - 1))
                .is_err()
        );
    }

    #[test]
    fn an_issued_token_verifies_and_carries_its_claims() {
        let tokens = service();
        let issued = tokens
            .issue(UserId(7), Role::Doctor, "abc", 0, FAR)
            .unwrap();
        let claims = tokens.verify(&issued.token).unwrap();
        assert_eq!(claims.user_id(), Some(UserId(7)));
        assert_eq!(claims.role, Role::Doctor);
        assert_eq!(claims.sid, "abc");
    }

    #[test]
    fn a_token_signed_with_another_secret_is_rejected() {
        let other = TokenService::new(&SecretString::from("y".repeat(32)), 60).unwrap();
        let issued = other.issue(UserId(7), Role::Doctor, "abc", 0, FAR).unwrap();
        assert!(service().verify(&issued.token).is_err());
    }

    #[test]
    fn an_mfa_challenge_and_an_access_token_are_never_taken_for_each_other() {
        let tokens = service();
        let challenge = tokens.issue_challenge(UserId(7), 300).unwrap();
        assert_eq!(tokens.verify_challenge(&challenge.token), Some(UserId(7)));
        assert!(
            tokens.verify(&challenge.token).is_err(),
            "not an access token"
        );
        let access = tokens
            .issue(UserId(7), Role::Doctor, "abc", 0, FAR)
            .unwrap();
        assert_eq!(
            tokens.verify_challenge(&access.token),
            None,
            "not a challenge"
        );
        let other = TokenService::new(&SecretString::from("y".repeat(32)), 60).unwrap();
        let forged = other.issue_challenge(UserId(7), 300).unwrap();
        assert_eq!(
            tokens.verify_challenge(&forged.token),
            None,
            "another secret"
        );
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(TokenService::new(&SecretString::from("short"), 60).is_err());
    }

    #[test]
    fn a_token_without_typ_is_rejected() {
        let tokens = service();
        let issued = tokens
            .issue(UserId(7), Role::Doctor, "abc", 0, FAR)
            .unwrap();
        let claims = tokens.verify(&issued.token).unwrap();
        let mut header = Header::new(Algorithm::HS256);
        header.typ = None;
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret("x".repeat(32).as_bytes()),
        )
        .unwrap();
        assert!(tokens.verify(&token).is_err());
    }
}
