//! The audit trail (HIPAA "audit controls"): an append-only table of who did what, when and
//! from where — logins (successful, failed, throttled), refreshes, logouts, revocations, every
//! read of a conversation, every refused access to an object, every refused WebSocket frame and
//! foreign `Origin`.
//!
//! It never holds message bodies, passwords or tokens. A failed login for an email that has no
//! account stores a SHA-256 of the normalised email (a pseudonym that lets `audit-export` find
//! it), not the email. Append-only is enforced by triggers (migration 0002): rows cannot be
//! updated, and only the retention purge can delete, and only rows older than the retention.
//!
//! Entries are written synchronously, before the answer: an access to health data that was not
//! recorded did not happen. A failing audit write is logged loudly but does not fail the
//! request (availability of care comes first; see docs/security.md).

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use colloque_protocol::{ConversationId, UserId};
use ipnet::IpNet;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A successful login.
    Login,
    /// A failed login (unknown email, wrong password, disabled account).
    LoginFailed,
    /// A login refused by throttling, before the password was checked.
    LoginThrottled,
    /// A token renewed.
    Refresh,
    /// A session ended by its user.
    Logout,
    /// Open sockets closed because their session ended (logout elsewhere, disabled, idle).
    SessionRevoked,
    /// An account disabled by an administrator (every session revoked).
    AccountDisabled,
    /// An account enabled again.
    AccountEnabled,
    /// The conversation list read.
    ConversationsListed,
    /// One conversation's summary read.
    ConversationOpened,
    /// A page of a conversation's messages read.
    HistoryRead,
    /// A 403 or 404 on an object (a conversation the caller does not take part in...).
    AccessDenied,
    /// A WebSocket frame refused for authorization (not found, forbidden, rate limited).
    WsFrameRefused,
    /// A request or socket refused for its `Origin`.
    OriginRefused,
    /// The trail exported by an administrator.
    AuditExported,
    /// Accounts and care links imported in bulk by an administrator.
    UsersImported,
    /// The caller's appointments read.
    AppointmentsListed,
    /// A patient's care team read.
    CareTeamListed,
    /// A doctor's patient list read.
    PatientsListed,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::LoginThrottled => "login_throttled",
            Action::Refresh => "refresh",
            Action::Logout => "logout",
            Action::SessionRevoked => "session_revoked",
            Action::AccountDisabled => "account_disabled",
            Action::AccountEnabled => "account_enabled",
            Action::ConversationsListed => "conversations_listed",
            Action::ConversationOpened => "conversation_opened",
            Action::HistoryRead => "history_read",
            Action::AccessDenied => "access_denied",
            Action::WsFrameRefused => "ws_frame_refused",
            Action::OriginRefused => "origin_refused",
            Action::AuditExported => "audit_exported",
            Action::UsersImported => "users_imported",
            Action::AppointmentsListed => "appointments_listed",
            Action::CareTeamListed => "care_team_listed",
            Action::PatientsListed => "patients_listed",
        }
    }
}

/// Which door the request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A REST call.
    Rest,
    /// A WebSocket frame or upgrade.
    Ws,
    /// The admin command line.
    Cli,
    /// The server itself (sweeper, purge).
    System,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Rest => "rest",
            Transport::Ws => "ws",
            Transport::Cli => "cli",
            Transport::System => "system",
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The client address: the peer's, or the one a trusted proxy forwarded.
    pub ip: Option<String>,
    /// The `User-Agent`, truncated.
    pub user_agent: Option<String>,
    /// REST, WebSocket, CLI or the server itself.
    pub transport: Transport,
}

/// The longest user agent kept.
const MAX_USER_AGENT_CHARS: usize = 256;

impl Source {
    /// The admin command line.
    pub fn cli() -> Self {
        Self {
            ip: None,
            user_agent: None,
            transport: Transport::Cli,
        }
    }

    /// The server itself.
    pub fn system() -> Self {
        Self {
            ip: None,
            user_agent: None,
            transport: Transport::System,
        }
    }

    /// The source of a request, from its peer address and headers.
    pub fn from_parts(parts: &Parts, trusted_proxies: &[IpNet], transport: Transport) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        let client = peer.map(|peer| client_address(peer, &parts.headers, trusted_proxies));
        Self {
            ip: client.map(|ip| ip.to_string()),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect()),
            transport,
        }
    }

    /// The same source, over the WebSocket.
    pub fn over_ws(mut self) -> Self {
        self.transport = Transport::Ws;
        self
    }
}

/// The client's address. A peer that is not a trusted proxy is the client, whatever it sends.
/// Behind trusted proxies, `X-Forwarded-For` is read from its end (each proxy appends the
/// address it received from): the first entry that is not itself a trusted proxy is the
/// client; what lies before it is whatever the client claimed, and is ignored. An entry that
/// is not an address stops the walk at the last address believed.
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d: compare it as IPv4.
    let peer = peer.to_canonical();
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    // Split as bytes: a proxy appends to the client's own header line, so bytes a client made
    // up (not ASCII, say) must cost only their own entry, not the address the proxy added.
    let entries: Vec<&[u8]> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.as_bytes().split(|&byte| byte == b','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = std::str::from_utf8(entry)
            .ok()
            .and_then(|text| text.trim().parse::<IpAddr>().ok())
        else {
            break;
        };
        client = ip.to_canonical();
        if !trusted(&client) {
            break;
        }
    }
    client
}

/// One entry to record.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What.
    pub action: Action,
    /// Who, when known.
    pub user_id: Option<UserId>,
    /// A pseudonymised email, for failed logins of unknown accounts.
    pub email_hash: Option<String>,
    /// Which conversation, if any.
    pub conversation_id: Option<ConversationId>,
    /// A short machine-written detail: an error code, a refused origin. Never user text.
    pub detail: Option<String>,
}

impl Entry {
    /// `action` by `user`.
    pub fn new(action: Action, user: Option<UserId>) -> Self {
        Self {
            action,
            user_id: user,
            email_hash: None,
            conversation_id: None,
            detail: None,
        }
    }

    /// About this conversation.
    pub fn conversation(mut self, id: ConversationId) -> Self {
        self.conversation_id = Some(id);
        self
    }

    /// With this detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// With this pseudonymised email.
    pub fn email_hash(mut self, hash: String) -> Self {
        self.email_hash = Some(hash);
        self
    }
}

/// SHA-256 (hex) of the normalised email, domain-separated. A pseudonym, not anonymisation:
/// someone holding the trail and guessing an email can confirm the guess, so the trail is
/// protected like the database it lives in.
pub fn email_hash(email: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"colloque-audit-email\0");
    hasher.update(email.trim().to_lowercase().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// One exported entry (a JSON line of `audit-export`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct Record {
    /// Row id (increasing).
    pub id: i64,
    /// Milliseconds since the epoch, UTC.
    pub at: i64,
    /// The user, when known.
    pub user_id: Option<i64>,
    /// Pseudonymised email, for failed logins of unknown accounts.
    pub email_hash: Option<String>,
    /// What.
    pub action: String,
    /// Which conversation.
    pub conversation_id: Option<i64>,
    /// Detail.
    pub detail: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// rest, ws, cli or system.
    pub transport: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_pseudonym_ignores_case_and_spaces_and_is_not_the_email() {
        let hash = email_hash(" Emma.Petit@colloque.test ");
        assert_eq!(hash, email_hash("emma.petit@colloque.test"));
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains("emma"));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies_and_read_from_its_end() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let nets =
            |list: &[&str]| -> Vec<IpNet> { list.iter().map(|n| n.parse().unwrap()).collect() };
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.0.0.7".parse().unwrap(),
        );
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(
            client_address(ip("198.51.100.1"), &headers, &[]),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_address(ip("198.51.100.1"), &headers, &nets(&["127.0.0.1/32"])),
            ip("198.51.100.1")
        );
        // One trusted proxy: the entry it appended.
        let local = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &headers, &local),
            ip("10.0.0.7")
        );
        // Two layers (a load balancer in 10.0.0.0/8, then nginx): past both, to the client;
        // "6.6.6.6" is what the client claimed, and is ignored.
        let layers = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &headers, &layers),
            ip("203.0.113.9")
        );
        // Headers sent twice are read as one list.
        let mut twice = HeaderMap::new();
        twice.append("x-forwarded-for", "203.0.113.1".parse().unwrap());
        twice.append("x-forwarded-for", "10.0.0.8".parse().unwrap());
        assert_eq!(
            client_address(ip("127.0.0.1"), &twice, &layers),
            ip("203.0.113.1")
        );
        // Bytes a client made up before the proxy's entry cost only their own entry.
        let mut made_up = HeaderMap::new();
        made_up.insert(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xc3\xa9, 203.0.113.4").unwrap(),
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &made_up, &local),
            ip("203.0.113.4")
        );
        // An IPv4 proxy seen through a dual-stack socket is still that proxy.
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &made_up, &local),
            ip("203.0.113.4")
        );
        // Garbage stops the walk at the last address believed.
        headers.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(
            client_address(ip("127.0.0.1"), &headers, &local),
            ip("127.0.0.1")
        );
    }
}
