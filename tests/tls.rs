//! HTTPS with the system's CA bundle (here: a test CA named by SSL_CERT_FILE),
//! for the probe and for webhooks, against a real TLS server on loopback.

use crate::common::*;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

fn openssl(dir: &Path, args: &[&str]) {
    require_tool("openssl", "apt-get install openssl");
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed for this test (.ci/run installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Tls {
    child: Child,
    port: u16,
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA, a leaf for localhost signed by it, and a server using the leaf.
fn tls_server(dir: &Path) -> Tls {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=selfheal test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let portfile = dir.join("port");
    require_tool("python3", "apt-get install python3");
    let child = Command::new(fixture("tls-server.py"))
        .args(["leaf.pem", "leaf.key"])
        .arg(&portfile)
        .current_dir(dir)
        .spawn()
        .expect("python3");
    assert!(wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(&portfile).is_ok_and(|p| !p.is_empty())
    }));
    let port = std::fs::read_to_string(&portfile)
        .expect("port")
        .trim()
        .parse()
        .expect("port number");
    Tls { child, port }
}

#[test]
fn https_probe_and_webhook_with_the_system_bundle() {
    let sb = Sandbox::new("tls");
    let tls = tls_server(&sb.root);
    let url = format!("https://localhost:{}/", tls.port);
    let ca = sb.root.join("ca.pem");

    let mut cmd = sb.cmd(&["probe"]);
    cmd.env("OPENCLAW_GATEWAY_URL", &url)
        .env("SSL_CERT_FILE", &ca);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());

    // Not trusted without the CA: a TLS reason, not a generic I/O error.
    let mut cmd = sb.cmd(&["probe"]);
    cmd.env("OPENCLAW_GATEWAY_URL", &url)
        .env("SSL_CERT_FILE", sb.root.join("leaf.key"));
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(r.stdout.contains("TLS: "), "{}", r.stdout);

    let mut cmd = sb.cmd(&["notify", "over TLS"]);
    cmd.env("SELFHEAL_WEBHOOK_URL", format!("{url}hook/SECRET"))
        .env("SSL_CERT_FILE", &ca);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
}
