//! What a rollback changed, for people: the keys that changed, then a
//! minimal line diff between the user's version and the restored one in
//! hunks with a line of context, secrets masked.

/// Files longer than this (lines, after the common start and end) are not
/// compared line by line: their differing middle is shown whole.
const LCS_MAX: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    /// A line of the user's version only.
    Yours,
    /// A line of the restored version only.
    Restored,
}

/// "what differed": the changed keys first, then a minimal line diff of
/// the user's version (`-`) against the restored one (`+`) in hunks with a
/// line of context (`…` between hunks), secrets masked, at most `max` lines
/// of hunks.
pub fn diff(user: Option<&[u8]>, good: &[u8], max: usize) -> Vec<String> {
    let Some(user) = user else {
        return vec!["(your file was missing; the last working version was put back)".into()];
    };
    let (a, b) = (String::from_utf8_lossy(user), String::from_utf8_lossy(good));
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let ops = line_ops(&a, &b);
    let shown = |line: &str| {
        let line: String = line.trim().chars().take(160).collect();
        crate::sys::redact::mask_secrets(&line)
    };
    // Which ops are shown: the changes and one line around each.
    let near = |i: usize| {
        ops[i.saturating_sub(1)..(i + 2).min(ops.len())]
            .iter()
            .any(|(op, _)| *op != Op::Same)
    };
    let mut hunks = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut last = None;
    for (i, (op, line)) in ops.iter().enumerate() {
        if !near(i) {
            continue;
        }
        if last.is_some_and(|l| l + 1 != i) {
            hunks.push("…".to_string());
        }
        last = Some(i);
        let sign = match op {
            Op::Same => " ",
            Op::Yours => "-",
            Op::Restored => "+",
        };
        if *op != Op::Same {
            if let Some(k) = key_of(line).filter(|k| !keys.contains(k)) {
                keys.push(k);
            }
        }
        hunks.push(format!("{sign} {}", shown(line)));
    }
    let mut out = Vec::new();
    if !keys.is_empty() {
        out.push(format!("changed: {}", keys.join(", ")));
    }
    let more = hunks.len().saturating_sub(max);
    out.extend(hunks.into_iter().take(max));
    if more > 0 {
        out.push(format!("… {more} more line(s)"));
    }
    out
}

/// Each line of both versions as the same, the user's only or the
/// restored only: the common start and end, and a longest common
/// subsequence of the middle (the whole middle changed when it is long).
fn line_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(Op, &'a str)> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops: Vec<(Op, &str)> = a[..head].iter().map(|l| (Op::Same, *l)).collect();
    if ma.len() > LCS_MAX || mb.len() > LCS_MAX {
        ops.extend(ma.iter().map(|l| (Op::Yours, *l)));
        ops.extend(mb.iter().map(|l| (Op::Restored, *l)));
    } else {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u16; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
                ops.push((Op::Same, ma[i]));
                (i, j) = (i + 1, j + 1);
            } else if j == mb.len() || (i < ma.len() && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
            {
                ops.push((Op::Yours, ma[i]));
                i += 1;
            } else {
                ops.push((Op::Restored, mb[j]));
                j += 1;
            }
        }
    }
    ops.extend(a[a.len() - tail..].iter().map(|l| (Op::Same, *l)));
    ops
}

/// The key a config line sets (`"port": 18789,` → `port`), if it sets one.
fn key_of(line: &str) -> Option<String> {
    let (name, _) = line.split_once(':')?;
    let name = name.trim().trim_matches(|c| c == '"' || c == '\'');
    let ok = !name.is_empty()
        && name.len() <= 60
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    ok.then(|| name.to_string())
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
                "changed: gateway",
                "  {",
                "- gateway: { port: 18789, bogusKey: 1 },",
                "+ gateway: { port: 18789 },",
                "  token: \"<redacted>\",",
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

    #[test]
    fn one_change_in_a_long_file_is_one_hunk_and_shown_first() {
        let good = "{\n  \"gateway\": {\n    \"mode\": \"local\",\n    \"port\": 18789,\n    \"bind\": \"loopback\"\n  },\n  \"agents\": {}\n}\n";
        let user = good.replace("18789", "\"eighteen\"");
        let d = diff(Some(user.as_bytes()), good.as_bytes(), 4);
        assert_eq!(
            d,
            vec![
                "changed: port",
                "  \"mode\": \"local\",",
                "- \"port\": \"eighteen\",",
                "+ \"port\": 18789,",
                "  \"bind\": \"loopback\"",
            ]
        );
        // Two changes far apart: two hunks.
        let filler: String = (0..6).map(|i| format!("    \"k{i}\": {i},\n")).collect();
        let good = good.replace("    \"bind\"", &format!("{filler}    \"bind\""));
        let user = good.replace("18789", "1").replace("{}", "{ x: 1 }");
        let d = diff(Some(user.as_bytes()), good.as_bytes(), 20).join("\n");
        assert!(d.contains("\n…\n"), "{d}");
        assert!(!d.contains("- }"), "{d}");
    }

    #[test]
    fn the_diff_is_bounded() {
        let good: String = (0..3000).map(|i| format!("k{i}: {i}\n")).collect();
        let user = good.replace("k5: 5", "k5: 6");
        let d = diff(Some(user.as_bytes()), good.as_bytes(), 6);
        assert!(d.len() <= 8, "{d:?}");
        let other: String = (0..3000).map(|i| format!("z{i}: {i}\n")).collect();
        let d = diff(Some(other.as_bytes()), good.as_bytes(), 6);
        assert_eq!(d.last().map(String::as_str), Some("… 5994 more line(s)"));
    }
}
