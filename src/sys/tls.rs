//! Root certificates for HTTPS (webhooks, heartbeats, https probes): the
//! system's CA bundle, as curl uses it, so that OS updates and a company's
//! own CA apply. `SSL_CERT_FILE` names another bundle. Not embedding a root
//! store keeps the static binary small; without a bundle HTTPS fails with an
//! error that says how to fix it. Loaded only when an agent that may speak
//! HTTPS is built, never on the healthy path of an http:// probe.

use std::path::PathBuf;

/// Where distributions and macOS keep the bundle, in the order tried.
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL, CentOS
    "/etc/ssl/ca-bundle.pem",             // openSUSE
    "/etc/ssl/cert.pem",                  // macOS, Alpine, BSDs
    "/opt/homebrew/etc/openssl@3/cert.pem",
    "/usr/local/etc/openssl@3/cert.pem",
    "/etc/ssl/certs/ca-bundle.crt",
];

/// The bundle in use: `SSL_CERT_FILE` if set, else the first that exists.
pub fn bundle() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    BUNDLES.iter().map(PathBuf::from).find(|p| p.is_file())
}

use crate::sys::files::Links;

/// A system bundle is a few hundred kilobytes.
const BUNDLE_MAX: u64 = 16 << 20;

pub const MISSING_HINT: &str = "no CA certificates found on this system \
    (install the ca-certificates package, or set SSL_CERT_FILE)";

/// The TLS settings for an agent: the bundle's certificates as roots.
#[cfg(feature = "tls")]
pub fn config() -> ureq::tls::TlsConfig {
    use ureq::tls::{parse_pem, PemItem, RootCerts, TlsConfig};
    let bytes = bundle()
        .and_then(|p| crate::sys::files::read_foreign(&p, Links::Follow, BUNDLE_MAX).ok())
        .unwrap_or_default();
    let certs: Vec<_> = parse_pem(&bytes)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&certs))
        .build()
}

/// How many certificates the bundle holds (for `doctor`).
#[cfg(feature = "tls")]
pub fn count() -> usize {
    let bytes = bundle()
        .and_then(|p| crate::sys::files::read_foreign(&p, Links::Follow, BUNDLE_MAX).ok())
        .unwrap_or_default();
    ureq::tls::parse_pem(&bytes)
        .filter(|i| matches!(i, Ok(ureq::tls::PemItem::Certificate(_))))
        .count()
}

#[cfg(not(feature = "tls"))]
pub fn count() -> usize {
    0
}
