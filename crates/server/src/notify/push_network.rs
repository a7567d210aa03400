//! Where the server may send a push: a push service on the public Internet, never an address of
//! its own network that a client's endpoint names (an `https://10.0.0.5/…` or an
//! `https://intranet.example/…` resolving to one). Checked before each push (a subscription
//! that can only reach such an address is deleted) and again when the connection is made (the
//! client's resolver keeps public addresses only: a name re-resolved to an internal address
//! meanwhile fails).

use std::net::{IpAddr, SocketAddr};

/// Whether `ip` is an address of the public Internet: not loopback, private, link-local,
/// shared (100.64/10), unspecified, multicast, broadcast, documentation or unique-local.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || a >= 240)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

/// Where an endpoint's host leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// At least one public address.
    Public,
    /// Only addresses of the server's own networks: never sent to.
    Internal,
    /// The name did not resolve now (a failure: tried again after a wait).
    Unknown,
}

/// Where `host` (a name or an IP literal, as in a URL) leads.
pub async fn reach(host: &str) -> Reach {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return if is_public(ip) {
            Reach::Public
        } else {
            Reach::Internal
        };
    }
    match tokio::net::lookup_host((host, 443)).await {
        Ok(addresses) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            if addresses.is_empty() {
                Reach::Unknown
            } else if addresses.iter().any(|address| is_public(address.ip())) {
                Reach::Public
            } else {
                Reach::Internal
            }
        }
        Err(_) => Reach::Unknown,
    }
}

/// The push client's resolver: the system's, keeping public addresses only.
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err("the push service's name resolves to no public address".into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_of_the_public_internet_are_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "142.250.74.202",
            "2a00:1450:4007:80e::200a",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn an_ip_literal_or_localhost_is_internal() {
        assert_eq!(reach("127.0.0.1").await, Reach::Internal);
        assert_eq!(reach("[::1]").await, Reach::Internal);
        assert_eq!(reach("10.0.0.5").await, Reach::Internal);
        assert_eq!(reach("localhost").await, Reach::Internal);
        assert_eq!(reach("8.8.8.8").await, Reach::Public);
    }
}
