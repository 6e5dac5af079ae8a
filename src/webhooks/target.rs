//! Where webhooks may go: http(s) URLs without credentials whose every
//! address is public. Checked when an endpoint is saved and again on every
//! connection: the HTTP client resolves names through `GuardedResolver`,
//! which refuses private answers, so a name that resolves elsewhere later
//! (DNS rebinding) is refused at connect time too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;

/// A name that takes longer to resolve is refused.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL we can send to at all.
    #[error("{0}")]
    Invalid(String),
    /// A URL whose host is (or resolves to) a non-public address.
    #[error("{0}")]
    NotAllowed(String),
}

/// Reads an endpoint URL: http or https, a host, no user name or password.
pub fn parse(raw: &str) -> Result<Url, TargetError> {
    let raw = raw.trim();
    if raw.len() > 2048 {
        return Err(TargetError::Invalid(
            "the URL is longer than 2048 characters".into(),
        ));
    }
    let url = Url::parse(raw).map_err(|e| TargetError::Invalid(format!("not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Invalid("only http and https URLs".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Invalid(
            "URLs with a user name or password are refused".into(),
        ));
    }
    if url.host().is_none() {
        return Err(TargetError::Invalid("the URL has no host".into()));
    }
    Ok(url)
}

/// Refuses a URL whose host is a non-public IP address literal (names are
/// checked when they are resolved).
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    if url.host_str().is_none() {
        return Err(TargetError::Invalid("the URL has no host".into()));
    }
    let Some(ip) = host_ip(url) else {
        return Ok(());
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(not_allowed(ip))
    }
}

/// Checks a URL fully: its host literal, or every address its name
/// resolves to. A name that does not resolve is refused too.
pub async fn check(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    check_literal(url, allow_private)?;
    match url.host_str() {
        Some(name) if !allow_private && host_ip(url).is_none() => resolve(name).await.map(|_| ()),
        _ => Ok(()),
    }
}

/// The host of `url` when it is an IP address literal (the parser has
/// already normalised forms such as `http://2130706433/`).
fn host_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Every address of `name`, if all of them are public.
async fn resolve(name: &str) -> Result<Vec<SocketAddr>, TargetError> {
    let lookup = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, 0)))
        .await
        .map_err(|_| TargetError::Invalid(format!("the host {name} did not resolve in time")))?;
    let addrs: Vec<SocketAddr> = lookup
        .map_err(|e| TargetError::Invalid(format!("the host {name} does not resolve: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(TargetError::Invalid(format!(
            "the host {name} does not resolve"
        )));
    }
    if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(not_allowed(bad.ip()));
    }
    Ok(addrs)
}

fn not_allowed(ip: IpAddr) -> TargetError {
    TargetError::NotAllowed(format!(
        "{ip} is not a public address (private, loopback, link-local, shared, multicast or reserved); \
         webhooks.allow_private_targets allows it"
    ))
}

/// The HTTP client's name resolution: refuses names with any non-public
/// address unless private targets are allowed.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = if allow_private {
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name.as_str(), 0)))
                    .await??
                    .collect::<Vec<_>>()
            } else {
                resolve(name.as_str()).await?
            };
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is an ordinary public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    const BLOCKED: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network", unspecified
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local (cloud metadata)
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation
        ([203, 0, 113, 0], 24),  // documentation
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, broadcast
    ];
    !BLOCKED.iter().any(|&(net, bits)| in_v4(ip, net, bits))
}

fn in_v6(ip: Ipv6Addr, net: u128, bits: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    u128::from(ip) & mask == net & mask
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let n = u128::from(ip);
    // Addresses that carry an IPv4 address are as public as that address.
    if in_v6(ip, 0xffff_0000_0000, 96) || in_v6(ip, 0x0064_ff9b << 96, 96) {
        return is_public_v4(Ipv4Addr::from(n as u32));
    }
    if in_v6(ip, 0x2002 << 112, 16) {
        return is_public_v4(Ipv4Addr::from((n >> 80) as u32));
    }
    const BLOCKED: &[(u128, u32)] = &[
        (0, 96),                 // unspecified, loopback, IPv4-compatible
        (0x0100 << 112, 64),     // discard-only
        (0x2001 << 112, 23),     // IETF special purpose (Teredo, ...)
        (0x2001_0db8 << 96, 32), // documentation
        (0xfc00 << 112, 7),      // unique local
        (0xfe80 << 112, 10),     // link-local
        (0xfec0 << 112, 10),     // site-local (deprecated)
        (0xff00 << 112, 8),      // multicast
    ];
    !BLOCKED.iter().any(|&(net, bits)| in_v6(ip, net, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for s in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(s)), "{s} must not be public");
        }
    }

    #[test]
    fn ordinary_addresses_are_public() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(s)), "{s} must be public");
        }
    }

    #[test]
    fn only_plain_http_urls_are_read() {
        assert!(parse("https://hooks.example.com/in?x=1").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "not a url",
            "https://user:pw@example.com/",
            "https://user@example.com/",
            "mailto:a@example.com",
        ] {
            assert!(matches!(parse(bad), Err(TargetError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn private_literals_are_refused_unless_allowed() {
        for raw in [
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let url = parse(raw).unwrap();
            assert!(
                matches!(check_literal(&url, false), Err(TargetError::NotAllowed(_))),
                "{raw}"
            );
            assert!(check_literal(&url, true).is_ok());
        }
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        let url = parse("http://localhost:9/").unwrap();
        assert!(matches!(
            check(&url, false).await,
            Err(TargetError::NotAllowed(_))
        ));
        assert!(check(&url, true).await.is_ok());
    }
}
