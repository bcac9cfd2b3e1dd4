//! What a rollback changed, for people: the lines that differ between the
//! user's version and the restored one, secrets masked.

/// "what differed": the lines between the common start and end of both
/// versions, `-` the user's and `+` the restored, secrets masked, at most
/// `max` of each.
pub fn diff(user: Option<&[u8]>, good: &[u8], max: usize) -> Vec<String> {
    let Some(user) = user else {
        return vec!["(your file was missing; the last working version was put back)".into()];
    };
    let (a, b) = (String::from_utf8_lossy(user), String::from_utf8_lossy(good));
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut out = Vec::new();
    for (sign, lines) in [
        ("-", &a[head..a.len() - tail]),
        ("+", &b[head..b.len() - tail]),
    ] {
        for line in lines.iter().take(max) {
            let line: String = line.trim().chars().take(160).collect();
            out.push(format!(
                "{sign} {}",
                crate::sys::redact::mask_secrets(&line)
            ));
        }
        if lines.len() > max {
            out.push(format!("{sign} … {} more line(s)", lines.len() - max));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_shows_what_changed_with_secrets_masked() {
        let user = b"{\n  gateway: { port: 18789, bogusKey: 1 },\n  token: \"abcdef123456\",\n}\n";
        let good = b"{\n  gateway: { port: 18789 },\n  token: \"abcdef123456\",\n}\n";
        assert_eq!(
            diff(Some(user), good, 10),
            vec![
                "- gateway: { port: 18789, bogusKey: 1 },",
                "+ gateway: { port: 18789 },"
            ]
        );
        let d = diff(
            Some(b"apiKey: \"sk-old-0123456789\"\n"),
            b"apiKey: \"x\"\n",
            10,
        );
        assert!(!d.join("\n").contains("sk-old"), "{d:?}");
        assert_eq!(diff(None, b"x", 1).len(), 1);
    }

    #[test]
    fn the_diff_masks_every_shape_of_secret() {
        for (user, secret) in [
            ("password: \"p@ss!w0rd#,x\",", "p@ss!w0rd#"),
            ("url: \"https://me:hunter2secret@host/x\",", "hunter2secret"),
            ("token:\t\"tabbed-secret\",", "tabbed-secret"),
            (
                "token: \"ab\", tokenTwo: \"second-secret\",",
                "second-secret",
            ),
            ("apiKey: 'single-quoted',", "single-quoted"),
        ] {
            let user = format!("{{\n  {user}\n}}\n");
            let d = diff(Some(user.as_bytes()), b"{\n  port: 1,\n}\n", 10).join("\n");
            assert!(!d.contains(secret), "{secret} in {d}");
        }
    }
}
