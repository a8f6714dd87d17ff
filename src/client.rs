//! The client as keyward sees it: address, host and scheme. `Forwarded` and `X-Forwarded-For`
//! / `-Host` / `-Proto` are believed only when the direct peer is one of `trusted_proxies`;
//! otherwise (and by default) anyone could send them. Pagination links, the sign-in throttle,
//! the access log and the console cookie's `Secure` flag all read this one view.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::uri::Authority;
use actix_web::web;
use ipnet::IpNet;

/// The peers whose forwarding headers are believed, as app data.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!("trusted_proxies: {entry:?} is not an IP address or CIDR range")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }
}

/// Where a request came from and how it was addressed, from the client's side of any proxies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientView {
    /// The client's address; `None` only when the connection has no peer address.
    pub address: Option<IpAddr>,
    /// The direct peer (the last proxy, behind one).
    pub peer: Option<IpAddr>,
    /// `host[:port]` the client asked for.
    pub host: String,
    /// `http` or `https`.
    pub scheme: &'static str,
}

impl ClientView {
    /// The view of `req`, with the request's `TrustedProxies` (none registered: trust none).
    pub fn of(req: &HttpRequest) -> Self {
        let empty = TrustedProxies::default();
        let trusted = req
            .app_data::<web::Data<TrustedProxies>>()
            .map_or(&empty, |d| d.get_ref());
        Self::from_parts(req, trusted)
    }

    fn from_parts(req: &HttpRequest, trusted: &TrustedProxies) -> Self {
        let peer = req.peer_addr().map(|a| a.ip().to_canonical());
        let direct = Self {
            address: peer,
            peer,
            host: direct_host(req),
            scheme: direct_scheme(req),
        };
        match peer {
            Some(ip) if trusted.trusts(ip) => direct.forwarded(req.headers(), trusted),
            _ => direct,
        }
    }

    /// `self` corrected by the forwarding headers a trusted peer sent.
    fn forwarded(mut self, headers: &HeaderMap, trusted: &TrustedProxies) -> Self {
        let hops = Hops::read(headers);
        if let Some(address) = self.address {
            self.address = Some(hops.client(address, trusted));
        }
        if let Some(host) = hops.host.filter(|h| valid_host(h)) {
            self.host = host;
        }
        match hops.proto.map(|p| p.to_ascii_lowercase()).as_deref() {
            Some("https") => self.scheme = "https",
            Some("http") => self.scheme = "http",
            _ => {}
        }
        self
    }
}

fn direct_host(req: &HttpRequest) -> String {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| req.app_config().host().to_owned())
}

fn direct_scheme(req: &HttpRequest) -> &'static str {
    match req.uri().scheme_str() {
        Some("https") => "https",
        Some(_) => "http",
        None if req.app_config().secure() => "https",
        None => "http",
    }
}

/// A forwarded host must be a plain `host[:port]`, nothing a link could be bent with.
fn valid_host(host: &str) -> bool {
    !host.is_empty() && !host.contains(['@', '/', '\\']) && Authority::from_str(host).is_ok()
}

/// What the forwarding headers say, `Forwarded` (RFC 7239) taking precedence over the
/// `X-Forwarded-*` family.
#[derive(Debug, Default)]
struct Hops {
    /// The `for` addresses, nearest proxy last; `None` for an entry that is not an address.
    chain: Vec<Option<IpAddr>>,
    /// The value added by the nearest proxy.
    host: Option<String>,
    proto: Option<String>,
}

impl Hops {
    fn read(headers: &HeaderMap) -> Self {
        let forwarded = values(headers, &header::FORWARDED);
        if !forwarded.is_empty() {
            return Self::from_forwarded(&forwarded);
        }
        let last = |name: &str| values(headers, name).into_iter().next_back();
        Self {
            chain: values(headers, "x-forwarded-for")
                .iter()
                .map(|v| parse_node(v))
                .collect(),
            host: last("x-forwarded-host"),
            proto: last("x-forwarded-proto"),
        }
    }

    fn from_forwarded(elements: &[String]) -> Self {
        let mut hops = Self::default();
        for element in elements {
            let mut node = None;
            for pair in element.split(';') {
                let Some((key, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"').to_owned();
                match key.trim().to_ascii_lowercase().as_str() {
                    "for" => node = Some(parse_node(&value)),
                    "host" => hops.host = Some(value),
                    "proto" => hops.proto = Some(value),
                    _ => {}
                }
            }
            hops.chain.push(node.flatten());
        }
        hops
    }

    /// Walks the chain from the nearest proxy outwards, past trusted proxies: the first address
    /// not trusted is the client. An entry that is not an address stops the walk at the proxy
    /// that wrote it; a chain of trusted proxies only gives its far end.
    fn client(&self, peer: IpAddr, trusted: &TrustedProxies) -> IpAddr {
        let mut client = peer;
        for hop in self.chain.iter().rev() {
            match hop {
                Some(address) => {
                    client = address.to_canonical();
                    if !trusted.trusts(client) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// Every comma-separated value of every `name` header, in order.
fn values(headers: &HeaderMap, name: impl header::AsHeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711` or `2001:db8::1`; anything else
/// (`unknown`, `_hidden`) is not an address.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    raw.parse().ok().or_else(|| {
        raw.rsplit_once(':')?
            .0
            .parse::<std::net::Ipv4Addr>()
            .ok()
            .map(IpAddr::V4)
    })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn trusted(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        TrustedProxies::parse(&entries).unwrap_or_else(|e| panic!("{e}"))
    }

    fn view(peer: &str, headers: &[(&str, &str)], proxies: &TrustedProxies) -> ClientView {
        let mut req = TestRequest::default()
            .peer_addr(peer.parse().unwrap_or_else(|e| panic!("{e}")))
            .insert_header(("host", "keyward.test"));
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        ClientView::from_parts(&req.to_http_request(), proxies)
    }

    #[test]
    fn entries_are_addresses_or_ranges() {
        let proxies = trusted(&["127.0.0.1", "10.0.0.0/8", "fd00::/8", " ::1 "]);
        for (address, expected) in [
            ("127.0.0.1", true),
            ("127.0.0.2", false),
            ("10.200.3.4", true),
            ("fd12::1", true),
            ("::1", true),
            ("::ffff:10.1.2.3", true),
            ("192.0.2.1", false),
        ] {
            let ip: IpAddr = address.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(proxies.trusts(ip), expected, "{address}");
        }
        for bad in ["10.0.0.0/33", "example.com", "", "10.0.0"] {
            assert!(TrustedProxies::parse(&[bad.to_owned()]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_taken_at_its_word_and_no_further() {
        let headers = [
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "for=203.0.113.9;host=evil.example;proto=https"),
        ];
        let seen = view("192.0.2.7:5000", &headers, &trusted(&[]));
        assert_eq!(seen.address, "192.0.2.7".parse().ok());
        assert_eq!(seen.host, "keyward.test");
        assert_eq!(seen.scheme, "http");
    }

    #[test]
    fn a_trusted_proxy_forwards_the_client_the_host_and_the_scheme() {
        let proxies = trusted(&["127.0.0.1"]);
        let seen = view(
            "127.0.0.1:5000",
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-host", "auth.example.com"),
                ("x-forwarded-proto", "https"),
            ],
            &proxies,
        );
        assert_eq!(seen.address, "203.0.113.9".parse().ok());
        assert_eq!(seen.peer, "127.0.0.1".parse().ok());
        assert_eq!(seen.host, "auth.example.com");
        assert_eq!(seen.scheme, "https");
    }

    #[test]
    fn addresses_a_client_prepends_are_not_believed() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let seen = view(
            "10.0.0.2:5000",
            &[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.5")],
            &proxies,
        );
        assert_eq!(
            seen.address,
            "203.0.113.9".parse().ok(),
            "the nearest address no trusted proxy vouches beyond"
        );
    }

    #[test]
    fn forwarded_takes_precedence_and_is_parsed_as_rfc_7239() {
        let proxies = trusted(&["127.0.0.1"]);
        let seen = view(
            "127.0.0.1:5000",
            &[
                ("x-forwarded-for", "198.51.100.1"),
                (
                    "forwarded",
                    "for=\"[2001:db8:cafe::17]:4711\";proto=HTTPS;host=auth.example.com",
                ),
            ],
            &proxies,
        );
        assert_eq!(seen.address, "2001:db8:cafe::17".parse().ok());
        assert_eq!(seen.host, "auth.example.com");
        assert_eq!(seen.scheme, "https");
        let hidden = view("127.0.0.1:1", &[("forwarded", "for=_hidden")], &proxies);
        assert_eq!(hidden.address, "127.0.0.1".parse().ok());
    }

    #[test]
    fn a_forwarded_host_that_is_not_a_host_is_ignored() {
        let proxies = trusted(&["127.0.0.1"]);
        for bad in ["evil.example/path", "user@evil.example", "a b", ""] {
            let seen = view("127.0.0.1:1", &[("x-forwarded-host", bad)], &proxies);
            assert_eq!(seen.host, "keyward.test", "{bad:?}");
        }
    }
}
