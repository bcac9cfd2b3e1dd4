//! The HTTP client for webhooks and heartbeats: environment proxies are
//! honoured (webhooks go to the internet), no redirects, each attempt bounded
//! by `SELFHEAL_ALERT_TIMEOUT`, TLS roots from the system (`tls`). The probe's
//! client is `crate::probe`'s: it differs (no proxy for loopback, its own
//! resolver).

use std::time::Duration;

/// `timeout` bounds one whole attempt (connect to last byte).
pub fn webhook_agent(timeout: Duration) -> ureq::Agent {
    let builder = ureq::Agent::config_builder();
    #[cfg(feature = "tls")]
    let builder = builder.tls_config(crate::sys::tls::config());
    builder
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(concat!("selfheal/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}
