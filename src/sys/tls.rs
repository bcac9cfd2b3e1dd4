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
        .unversioned_rustls_crypto_provider(provider())
        .build()
}

/// rustls with *ring*, as ureq's default, but AES-GCM only: every server a
/// webhook goes to speaks it, and the ChaCha20-Poly1305 code (~50 KiB)
/// stays out of the static binary.
#[cfg(feature = "tls")]
fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::ring::{cipher_suite as cs, kx_group};
    use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
    use rustls::SignatureScheme as S;
    use webpki::ring as a;
    static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
        all: &[
            a::ECDSA_P256_SHA256,
            a::ECDSA_P256_SHA384,
            a::ECDSA_P384_SHA256,
            a::ECDSA_P384_SHA384,
            a::ED25519,
            a::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            a::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            a::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            a::RSA_PKCS1_2048_8192_SHA256,
            a::RSA_PKCS1_2048_8192_SHA384,
            a::RSA_PKCS1_2048_8192_SHA512,
            a::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
            a::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
            a::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        ],
        mapping: &[
            (
                S::ECDSA_NISTP384_SHA384,
                &[a::ECDSA_P384_SHA384, a::ECDSA_P256_SHA384],
            ),
            (
                S::ECDSA_NISTP256_SHA256,
                &[a::ECDSA_P256_SHA256, a::ECDSA_P384_SHA256],
            ),
            (S::ED25519, &[a::ED25519]),
            (S::RSA_PSS_SHA512, &[a::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
            (S::RSA_PSS_SHA384, &[a::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
            (S::RSA_PSS_SHA256, &[a::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
            (S::RSA_PKCS1_SHA512, &[a::RSA_PKCS1_2048_8192_SHA512]),
            (S::RSA_PKCS1_SHA384, &[a::RSA_PKCS1_2048_8192_SHA384]),
            (S::RSA_PKCS1_SHA256, &[a::RSA_PKCS1_2048_8192_SHA256]),
        ],
    };
    std::sync::Arc::new(CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        signature_verification_algorithms: SIGNATURES,
        secure_random: &Random,
        key_provider: &NoClientKeys,
    })
}

/// Randomness from the kernel (`getrandom(2)`, `arc4random_buf` on macOS).
#[cfg(feature = "tls")]
#[derive(Debug)]
struct Random;

#[cfg(feature = "tls")]
impl rustls::crypto::SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
        #[cfg(target_os = "macos")]
        {
            // SAFETY: writes exactly buf.len() bytes into buf.
            unsafe { libc::arc4random_buf(buf.as_mut_ptr().cast(), buf.len()) };
            Ok(())
        }
        #[cfg(not(target_os = "macos"))]
        {
            let mut done = 0;
            while done < buf.len() {
                // SAFETY: writes at most the rest of buf.
                let n = unsafe {
                    libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0)
                };
                match n {
                    n if n > 0 => done += n as usize,
                    _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
                    _ => return Err(rustls::crypto::GetRandomFailed),
                }
            }
            Ok(())
        }
    }
}

/// selfheal never presents a client certificate.
#[cfg(feature = "tls")]
#[derive(Debug)]
struct NoClientKeys;

#[cfg(feature = "tls")]
impl rustls::crypto::KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Result<std::sync::Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General("no client certificates".into()))
    }
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
