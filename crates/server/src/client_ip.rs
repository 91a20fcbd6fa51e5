//! The client's address for per-IP limits: the socket's peer, unless that peer is a
//! trusted proxy, whose `X-Forwarded-For` then names the client. The header is read
//! from the right (each proxy appends the address it saw) past the trusted proxies,
//! so a client cannot choose its address by sending the header itself.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Addresses whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parse addresses (`10.0.0.7`) and networks (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let net = |entry: &String| {
            let entry = entry.trim();
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("trusted_proxies: {entry:?} is not an address or network"))
        };
        entries.iter().map(net).collect::<Result<_, _>>().map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: the last address in `X-Forwarded-For` that is not a
    /// trusted proxy, when `peer` is one (its leftmost, if all are); `peer` otherwise,
    /// or when the header is missing or unreadable.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops = vec![];
        for value in headers.get_all("x-forwarded-for") {
            let Ok(text) = value.to_str() else {
                return peer;
            };
            for hop in text.split(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(ip) => hops.push(ip),
                    Err(_) => return peer,
                }
            }
        }
        let first = hops.first().copied().unwrap_or(peer);
        hops.into_iter()
            .rev()
            .find(|&ip| !self.trusts(ip))
            .unwrap_or(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_trusted_peers_are_believed_and_only_past_trusted_hops() {
        let proxies =
            TrustedProxies::parse(&["10.0.0.0/8".into(), " 192.168.1.5 ".into()]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let (proxy, stranger) = (ip("10.1.2.3"), ip("203.0.113.9"));
        for (peer, values, want) in [
            // A client talking to us directly cannot pick its address.
            (stranger, &["1.1.1.1"][..], stranger),
            // Through the load balancer: the address it saw.
            (proxy, &["198.51.100.7"], ip("198.51.100.7")),
            // The client's own header comes first; the proxies' entries come last.
            (
                proxy,
                &["1.1.1.1, 198.51.100.7, 10.9.9.9"],
                ip("198.51.100.7"),
            ),
            (
                proxy,
                &["1.1.1.1", "198.51.100.7, 192.168.1.5"],
                ip("198.51.100.7"),
            ),
            // Only proxies: the first of them.
            (proxy, &["10.5.5.5, 10.6.6.6"], ip("10.5.5.5")),
            // No header, or garbage in it: the peer.
            (proxy, &[], proxy),
            (proxy, &["1.1.1.1, not-an-address"], proxy),
            (proxy, &["2001:db8::1"], ip("2001:db8::1")),
        ] {
            assert_eq!(proxies.client(peer, &headers(values)), want, "{values:?}");
        }
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["example.com".into()]).is_err());
    }
}
