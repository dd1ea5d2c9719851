//! Where webhooks may go (public addresses only), checked at registration and again as
//! each delivery connects.

use hub_platform::FieldError;

/// Where webhooks may go. Deliveries leave from inside the platform's network, so a URL is
/// a way to make the platform send requests: only https to a public address is accepted.
/// Refused (rule `public_address`, 422 naming `/url`) at registration and again at connect
/// time, after DNS resolution (so a name that later resolves to an inside address, DNS
/// rebinding, gets nowhere):
/// - loopback (127.0.0.0/8, ::1, `localhost`), unless `allow_http_loopback` (development:
///   then http is accepted too, for loopback only);
/// - private (RFC 1918, 100.64.0.0/10 shared, fc00::/7 unique local), link-local
///   (169.254.0.0/16, fe80::/10: the cloud metadata address 169.254.169.254 is one) and
///   metadata names (`metadata.google.internal`, `metadata`);
/// - unspecified, broadcast, multicast and documentation addresses;
/// - the platform's own address (the host and port of `server.public_url`).
///
/// Only IP literals and these names are known at registration; other names are checked each
/// time a delivery connects.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    /// Development: plain http, and https, to a loopback address.
    pub allow_http_loopback: bool,
    /// The platform's own `host:port` (from `server.public_url`).
    pub own: Option<(String, u16)>,
}

impl Destinations {
    pub fn new(allow_http_loopback: bool, public_url: &str) -> Self {
        let own = url::Url::parse(public_url).ok().and_then(|u| {
            Some((
                u.host_str()?.to_ascii_lowercase(),
                u.port_or_known_default()?,
            ))
        });
        Self {
            allow_http_loopback,
            own,
        }
    }

    /// Why `ip` may not receive webhooks (a category name), if it may not.
    pub fn refused_ip(&self, ip: std::net::IpAddr) -> Option<&'static str> {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let category = match ip {
            IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                if v4.is_loopback() {
                    "loopback"
                } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
                    "private"
                } else if v4.is_link_local() {
                    "link-local"
                } else if v4.is_unspecified()
                    || v4.is_broadcast()
                    || v4.is_multicast()
                    || v4.is_documentation()
                    || a == 0
                    || a >= 240
                {
                    "reserved"
                } else {
                    return None;
                }
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                if v6.is_loopback() {
                    "loopback"
                } else if first & 0xfe00 == 0xfc00 {
                    "private"
                } else if first & 0xffc0 == 0xfe80 {
                    "link-local"
                } else if v6.is_unspecified()
                    || v6.is_multicast()
                    || first == 0x2001 && v6.segments()[1] == 0x0db8
                {
                    "reserved"
                } else {
                    return None;
                }
            }
        };
        (category != "loopback" || !self.allow_http_loopback).then_some(category)
    }

    /// What is wrong with where `raw` points, if anything (checked after [`url_error`]).
    pub fn error(&self, raw: &str) -> Option<FieldError> {
        let url = url::Url::parse(raw).ok()?;
        let refused = |why: String| {
            Some(FieldError::new(
                "/url",
                "public_address",
                format!("webhooks go to public addresses only: {why}"),
            ))
        };
        let host = url.host_str()?.to_ascii_lowercase();
        let literal = match url.host()? {
            url::Host::Ipv4(v4) => Some(std::net::IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(std::net::IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        };
        let loopback_name = host == "localhost" || host.ends_with(".localhost");
        if let Some(ip) = literal
            && let Some(category) = self.refused_ip(ip)
        {
            return refused(format!("this is a {category} address"));
        }
        if loopback_name && !self.allow_http_loopback {
            return refused("this is a loopback address".into());
        }
        if matches!(host.as_str(), "metadata.google.internal" | "metadata") {
            return refused("this is a cloud metadata address".into());
        }
        if self
            .own
            .as_ref()
            .is_some_and(|(h, p)| *h == host && Some(*p) == url.port_or_known_default())
        {
            return refused("this is the platform's own address".into());
        }
        let loopback = loopback_name || literal.is_some_and(|ip| ip.is_loopback());
        if url.scheme() != "https" && !(self.allow_http_loopback && loopback) {
            return Some(FieldError::new(
                "/url",
                "scheme",
                "the URL must start with https://",
            ));
        }
        None
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_go_to_public_https_addresses_only() {
        let strict = Destinations::new(false, "https://hub.example.org");
        let dev = Destinations::new(true, "http://127.0.0.1:8080");
        for ok in [
            "https://provider.example/hooks",
            "https://203.0.113.1.nip.example/h",
            "https://8.8.8.8/h",
            "https://[2606:4700::1111]/h",
            "https://hub.example.org:8443/h",
        ] {
            assert_eq!(strict.error(ok).map(|e| e.rule), None, "{ok}");
        }
        for (bad, rule) in [
            ("http://provider.example/hooks", "scheme"),
            ("https://127.0.0.1/h", "public_address"),
            ("http://127.0.0.1:9000/h", "public_address"),
            ("https://localhost/h", "public_address"),
            ("https://[::1]/h", "public_address"),
            ("https://[::ffff:127.0.0.1]/h", "public_address"),
            ("https://10.0.0.5/h", "public_address"),
            ("https://172.16.3.4/h", "public_address"),
            ("https://192.168.1.1/h", "public_address"),
            ("https://100.100.100.200/h", "public_address"),
            ("https://[fd00:ec2::254]/h", "public_address"),
            ("https://169.254.169.254/latest/meta-data", "public_address"),
            ("https://[fe80::1]/h", "public_address"),
            (
                "https://metadata.google.internal/computeMetadata/v1",
                "public_address",
            ),
            ("https://0.0.0.0/h", "public_address"),
            ("https://hub.example.org/h", "public_address"),
        ] {
            assert_eq!(
                strict.error(bad).map(|e| (e.field, e.rule)),
                Some(("/url".to_owned(), rule.to_owned())),
                "{bad}"
            );
        }
        // Development: loopback (http too), never anything else inside; nor the platform.
        assert!(dev.error("http://127.0.0.1:9000/h").is_none());
        assert!(dev.error("http://localhost:9000/h").is_none());
        assert_eq!(
            dev.error("http://127.0.0.1:8080/v1/x")
                .map(|e| e.rule)
                .as_deref(),
            Some("public_address")
        );
        assert_eq!(
            dev.error("http://10.0.0.5/h").map(|e| e.rule).as_deref(),
            Some("public_address")
        );
        assert_eq!(
            dev.error("http://provider.example/h")
                .map(|e| e.rule)
                .as_deref(),
            Some("scheme")
        );
        assert_eq!(
            dev.refused_ip("169.254.169.254".parse().unwrap()),
            Some("link-local")
        );
        assert_eq!(dev.refused_ip("127.0.0.1".parse().unwrap()), None);
        assert_eq!(
            strict.refused_ip("127.0.0.1".parse().unwrap()),
            Some("loopback")
        );
    }
}
