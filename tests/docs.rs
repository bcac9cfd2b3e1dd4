//! The README's table of keys and `contrib/selfheal.env.example` are made
//! from the keys' declarations (`config::keys`, each channel's file): these
//! tests fail when either differs, and `make docs` (`SELFHEAL_BLESS=1`)
//! writes them anew.

use selfheal::config::keys::{all, SECTIONS};
use selfheal::key::Key;
use selfheal::profile::PROFILES;

const BEGIN: &str =
    "<!-- keys: made by `make docs` from src/config/keys.rs and src/channel/; edit there -->\n";
const END: &str = "<!-- /keys -->\n";

fn help(k: &Key) -> String {
    k.help
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn section(k: &Key) -> Option<&'static str> {
    SECTIONS
        .iter()
        .find(|(first, _)| *first == k.name)
        .map(|(_, title)| *title)
}

/// The README's tables, one per section.
fn readme_tables() -> String {
    let mut out = String::from(BEGIN);
    for k in all() {
        if let Some(title) = section(k) {
            out.push_str(&format!(
                "\n**{title}**\n\n| key | default | meaning |\n|---|---|---|\n"
            ));
        }
        let default = match (k.default, k.secret) {
            ("", true) => "—".to_string(),
            ("", false) => "empty".to_string(),
            (d, _) => format!("`{d}`"),
        };
        out.push_str(&format!("| `{}` | {default} | {} |\n", k.name, help(k)));
    }
    out.push('\n');
    out.push_str(END);
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("a line");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// The env example: every key commented out at its default.
fn env_example() -> String {
    let mut out = String::from(
        "# selfheal configuration — copy to ~/.openclaw/.env (chmod 600).\n\
         # This file is shared with OpenClaw: selfheal ignores keys it does not know.\n\
         # Format: KEY=VALUE; `export` allowed; quotes stripped; nothing is executed or\n\
         # expanded except a leading ~/. Durations: seconds (0.5 ok) or 250ms/30s/5m/2h.\n\
         # Every line below is commented out and shows the default.\n\
         # (Made by `make docs` from the keys' declarations; README \"Configuration\".)\n",
    );
    for k in all() {
        if let Some(title) = section(k) {
            let head = format!("# --- {title} ");
            let pad = 78usize.saturating_sub(head.chars().count());
            out.push_str(&format!("\n{head}{}\n", "-".repeat(pad)));
        }
        for line in wrap(&help(k), 76) {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str(&format!("#{}={}\n", k.name, k.default));
    }
    out
}

const AGENTS_BEGIN: &str = "<!-- agents: made by `make docs` from src/profile.rs; edit there -->\n";
const AGENTS_END: &str = "<!-- /agents -->\n";

/// The README's agent table: one row per profile.
fn agents_table() -> String {
    let mut out = String::from(AGENTS_BEGIN);
    out.push_str(
        "\n| `SELFHEAL_AGENT` | CLI (npm) | what level 3 runs | it needs | what it may do | \
         old `OPENCLAW_LLM_PROVIDER` |\n|---|---|---|---|---|---|\n",
    );
    for p in PROFILES {
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} | {} | `{}` |\n",
            p.name,
            p.package,
            p.work.join(" "),
            p.needs.replace('|', "\\|"),
            p.permissions.replace('|', "\\|"),
            p.old_provider
        ));
    }
    out.push('\n');
    out.push_str(AGENTS_END);
    out
}

fn check(path: &str, want: &str, have: &str) {
    if have == want {
        return;
    }
    if std::env::var_os("SELFHEAL_BLESS").is_some() {
        std::fs::write(path, want).expect("write");
        return;
    }
    panic!("{path} is not what the keys' declarations make: run `make docs`");
}

#[test]
fn the_readme_tables_of_keys_are_made_from_their_declarations() {
    let path = format!("{}/README.md", env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(&path).expect("README");
    let start = readme
        .find(BEGIN)
        .expect("the keys' begin marker in README.md");
    let end = readme.find(END).expect("the keys' end marker in README.md") + END.len();
    let want = format!("{}{}{}", &readme[..start], readme_tables(), &readme[end..]);
    let start = want
        .find(AGENTS_BEGIN)
        .expect("the agents' begin marker in README.md");
    let end = want
        .find(AGENTS_END)
        .expect("the agents' end marker in README.md")
        + AGENTS_END.len();
    let want = format!("{}{}{}", &want[..start], agents_table(), &want[end..]);
    check(&path, &want, &readme);
}

#[test]
fn the_env_example_is_made_from_the_declarations() {
    let path = format!(
        "{}/contrib/selfheal.env.example",
        env!("CARGO_MANIFEST_DIR")
    );
    let have = std::fs::read_to_string(&path).expect("example");
    check(&path, &env_example(), &have);
}

#[test]
fn every_key_has_help_and_a_unique_name() {
    let mut names: Vec<&str> = all().map(|k| k.name).collect();
    for k in all() {
        assert!(!help(k).is_empty(), "{} has no help", k.name);
    }
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "a key is declared twice");
}

/// Say it right 26.9: `check --help` is a numbered list of the run's steps,
/// as the README's, in lines a terminal shows whole.
#[test]
fn check_help_is_a_numbered_list_of_steps() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_selfheal"))
        .args(["check", "--help"])
        .output()
        .expect("help");
    let text = String::from_utf8(out.stdout).expect("utf8");
    let mut n = 0;
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "too long: {line}");
        let number = line.trim_start().split('.').next().unwrap_or("");
        if number.parse::<u32>() == Ok(n + 1) && line.contains(". ") {
            n += 1;
        }
    }
    assert!(n >= 9, "{n} numbered steps: {text}");
}
