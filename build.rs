//! Build facts for `selfheal --version`: the target, the git commit and the
//! build date, so that a bug report says what ran. The date is
//! `SOURCE_DATE_EPOCH`'s, else the commit's — never the clock's, so that two
//! builds of one commit are byte-identical. Outside a git checkout (a source
//! tarball) `SELFHEAL_COMMIT` may say it; otherwise "unknown".

use std::path::Path;
use std::process::Command;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let commit = std::env::var("SELFHEAL_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short=7", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .or_else(|| git(&["log", "-1", "--format=%ct"]).and_then(|s| s.parse().ok()));
    let date = epoch.map_or_else(|| "unknown".into(), civil_date);
    println!("cargo:rustc-env=SELFHEAL_TARGET={target}");
    println!("cargo:rustc-env=SELFHEAL_COMMIT={commit}");
    println!("cargo:rustc-env=SELFHEAL_BUILD_DATE={date}");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=SELFHEAL_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    // A path that does not exist would make cargo rerun this every build.
    let head = Path::new(".git/HEAD");
    if head.is_file() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        let branch = std::fs::read_to_string(head).unwrap_or_default();
        if let Some(r) = branch.trim().strip_prefix("ref: ") {
            if Path::new(".git").join(r).is_file() {
                println!("cargo:rerun-if-changed=.git/{r}");
            }
        }
        if Path::new(".git/packed-refs").is_file() {
            println!("cargo:rerun-if-changed=.git/packed-refs");
        }
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// `YYYY-MM-DD` (UTC) of a unix time (Howard Hinnant's civil_from_days).
fn civil_date(unix: i64) -> String {
    let z = unix.div_euclid(86400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
