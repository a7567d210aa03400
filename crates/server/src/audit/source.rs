//! Where an audited request came from: the client's address (read through trusted proxies
//! only), its user agent, and the door it came through.

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// Which door the request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// The stored name.
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

#[cfg(test)]
mod tests {
    use super::*;

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
