//! Every agent CLI level 3 knows, declared once (`PROFILES`): what it runs
//! unattended, how it takes the prompt, how it is asked whether it can
//! work, the credentials it reads from its environment, the flags that let
//! it act without asking, what it needs, and the lines by which it says it
//! cannot work. `resolve` turns `SELFHEAL_AGENT`, `SELFHEAL_AGENT_CMD` and
//! `SELFHEAL_AGENT_MODEL` into the agents level 3 runs; level 3, the
//! readiness question, doctor and the README's agent table all read the
//! profile and decide nothing about a CLI of their own.
//!
//! A leaf: it runs nothing and reads no file.

/// `SELFHEAL_AGENT`: which CLI the agent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// Known from `SELFHEAL_AGENT_CMD`'s program; Claude Code when that is
    /// `auto` too.
    #[default]
    Auto,
    Claude,
    Codex,
    /// The Codex CLI with a local model served by Ollama (`--oss`).
    CodexOss,
    Gemini,
    /// Any other command (`SELFHEAL_AGENT_CMD`): every CLI's words count.
    Custom,
}

impl std::str::FromStr for Preset {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Preset, &'static str> {
        match s.trim() {
            "auto" | "" => Ok(Preset::Auto),
            "custom" => Ok(Preset::Custom),
            name => PROFILES
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.preset)
                .ok_or("expected auto, claude, codex, codex-oss, gemini or custom"),
        }
    }
}

/// What an agent's own words say about why it cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cannot {
    NotLoggedIn,
    Quota,
    /// Its API, or its local model server, cannot be reached.
    NoNetwork,
}

/// How the readiness question reaches an agent whose command has no
/// `{prompt_file}`: these words are appended, `{question}` filled in.
const ASK_PRINT: &[&str] = &["-p", "{question}"];

/// One agent CLI.
#[derive(Debug)]
pub struct Profile {
    pub preset: Preset,
    /// `SELFHEAL_AGENT`'s value for it.
    pub name: &'static str,
    /// The npm package it comes from.
    pub package: &'static str,
    /// What the old scripts' `OPENCLAW_LLM_PROVIDER` called it.
    pub old_provider: &'static str,
    /// What level 3 runs (`{prompt_file}`, `{memory_dir}` filled in): with
    /// `{prompt_file}` it works on its own and is done when it exits;
    /// without, it is interactive and gets its trust dialog answered and
    /// the prompt pasted.
    pub work: &'static [&'static str],
    /// How a model is chosen (`SELFHEAL_AGENT_MODEL`, preset commands only).
    pub model_flag: &'static str,
    /// The environment variables it takes its credentials from; selfheal
    /// passes those it has (env file or environment), never in argv.
    pub credentials: &'static [&'static str],
    /// Flags that let it act without asking; an interactive command with
    /// none stops at its first permission prompt.
    pub unattended: &'static [&'static str],
    /// What the preset's command may do, for doctor and the README.
    pub permissions: &'static str,
    /// What it needs to work, and the fix when it is not logged in.
    pub needs: &'static str,
    /// Phrases its own status lines start with (after `Error:` and the
    /// like) when it cannot work, lower case.
    pub says: &'static [(Cannot, &'static str)],
}

/// Words any CLI on Node or Rust prints when the network is gone.
const NETWORK: &[(Cannot, &str)] = &[
    (Cannot::NoNetwork, "enotfound"),
    (Cannot::NoNetwork, "econnrefused"),
    (Cannot::NoNetwork, "etimedout"),
    (Cannot::NoNetwork, "getaddrinfo"),
    (Cannot::NoNetwork, "network is unreachable"),
    (Cannot::NoNetwork, "failed to lookup address information"),
];

/// Every CLI, in the order of the README's table.
pub const PROFILES: &[Profile] = &[
    Profile {
        preset: Preset::Claude,
        name: "claude",
        old_provider: "claude",
        package: "@anthropic-ai/claude-code",
        work: &["claude"],
        model_flag: "--model",
        credentials: &["ANTHROPIC_API_KEY"],
        unattended: &[
            "--permission-mode",
            "--allowedTools",
            "--dangerously-skip-permissions",
        ],
        permissions: "asks before each command and edit (nobody answers at night): add \
                      --permission-mode acceptEdits --allowedTools … to SELFHEAL_AGENT_CMD",
        needs: "a login as this user (run `claude` once, then /login), or ANTHROPIC_API_KEY",
        says: &[
            (Cannot::NotLoggedIn, "please run /login"),
            (Cannot::NotLoggedIn, "not logged in"),
            (Cannot::NotLoggedIn, "invalid api key"),
            (Cannot::NotLoggedIn, "authentication_error"),
            (Cannot::NotLoggedIn, "oauth token has expired"),
            (Cannot::NotLoggedIn, "login required"),
            (Cannot::Quota, "claude usage limit reached"),
            (Cannot::Quota, "usage limit reached"),
            (Cannot::Quota, "api error: 429"),
            (Cannot::Quota, "api error (429"),
            (Cannot::Quota, "rate_limit_error"),
            (Cannot::Quota, "credit balance is too low"),
            (Cannot::NoNetwork, "unable to connect to anthropic services"),
            (Cannot::NoNetwork, "failed to connect to api.anthropic.com"),
        ],
    },
    Profile {
        preset: Preset::Codex,
        name: "codex",
        old_provider: "openai",
        package: "@openai/codex",
        work: &[
            "codex",
            "exec",
            "--skip-git-repo-check",
            "--sandbox",
            "workspace-write",
            "--add-dir",
            "{memory_dir}",
            "--color",
            "never",
            "Follow the instructions in {prompt_file}",
        ],
        model_flag: "-m",
        credentials: &["OPENAI_API_KEY"],
        unattended: &["exec"],
        permissions: "edits files under its working directory and the memory directory, runs \
                      commands in its sandbox (no network, no service manager); for more: \
                      --dangerously-bypass-approvals-and-sandbox in SELFHEAL_AGENT_CMD",
        needs: "a login as this user (`codex login`), or OPENAI_API_KEY",
        says: &[
            (Cannot::NotLoggedIn, "not logged in"),
            (Cannot::NotLoggedIn, "unexpected status 401"),
            (Cannot::NotLoggedIn, "401 unauthorized"),
            (Cannot::Quota, "you've hit your usage limit"),
            (Cannot::Quota, "unexpected status 429"),
            (Cannot::Quota, "quota exceeded"),
            (Cannot::NoNetwork, "reconnecting... waiting for network"),
            (Cannot::NoNetwork, "stream disconnected before completion"),
        ],
    },
    Profile {
        preset: Preset::CodexOss,
        name: "codex-oss",
        old_provider: "ollama",
        package: "@openai/codex",
        work: &[
            "codex",
            "exec",
            "--oss",
            "--local-provider",
            "ollama",
            "--skip-git-repo-check",
            "--sandbox",
            "workspace-write",
            "--add-dir",
            "{memory_dir}",
            "--color",
            "never",
            "Follow the instructions in {prompt_file}",
        ],
        model_flag: "-m",
        credentials: &[],
        unattended: &["exec"],
        permissions: "as codex; the model runs on this host (no API, no account)",
        needs: "Ollama running here (`ollama serve`) with a model pulled (`ollama pull \
                gpt-oss:20b`)",
        says: &[
            (Cannot::NoNetwork, "oss setup failed"),
            (Cannot::NoNetwork, "no running ollama server"),
            (Cannot::NoNetwork, "reconnecting... waiting for network"),
            (Cannot::NoNetwork, "stream disconnected before completion"),
        ],
    },
    Profile {
        preset: Preset::Gemini,
        name: "gemini",
        old_provider: "gemini",
        package: "@google/gemini-cli",
        work: &[
            "gemini",
            "--skip-trust",
            "--approval-mode",
            "auto_edit",
            "--include-directories",
            "{memory_dir}",
            "-p",
            "Follow the instructions in {prompt_file}",
        ],
        model_flag: "-m",
        credentials: &["GEMINI_API_KEY"],
        unattended: &["--yolo", "--approval-mode", "-y"],
        permissions: "edits files without asking; shell commands are refused (headless): for \
                      them, --approval-mode yolo in SELFHEAL_AGENT_CMD",
        needs: "GEMINI_API_KEY, or a login as this user (run `gemini` once)",
        says: &[
            (Cannot::NotLoggedIn, "please set an auth method"),
            (Cannot::NotLoggedIn, "api key not valid"),
            (Cannot::Quota, "quota exceeded"),
            (Cannot::Quota, "resource_exhausted"),
            (Cannot::NoNetwork, "fetch failed"),
            (Cannot::NoNetwork, "exception typeerror: fetch failed"),
            (Cannot::NoNetwork, "error generating content via api"),
        ],
    },
];

/// The preset an old `OPENCLAW_LLM_PROVIDER` value means (`openai` →
/// `codex`, `ollama` → `codex-oss`); other values as they are.
pub fn from_old_provider(value: &str) -> &str {
    PROFILES
        .iter()
        .find(|p| p.old_provider == value)
        .map_or(value, |p| p.name)
}

/// A custom command's profile: it may be any CLI, so every one's words
/// count and every credential is passed.
pub const CUSTOM: Profile = Profile {
    preset: Preset::Custom,
    name: "custom",
    old_provider: "",
    package: "",
    work: &[],
    model_flag: "",
    credentials: &["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"],
    unattended: &[],
    permissions: "whatever its command gives it",
    needs: "what its CLI needs",
    says: &[],
};

impl Profile {
    pub fn of(preset: Preset) -> &'static Profile {
        PROFILES
            .iter()
            .find(|p| p.preset == preset)
            .unwrap_or(&CUSTOM)
    }

    /// The profile a command's program is, by its file name.
    pub fn of_program(program: &str) -> &'static Profile {
        let name = program.rsplit('/').next().unwrap_or(program);
        PROFILES
            .iter()
            .find(|p| p.work.first() == Some(&name) && p.preset != Preset::CodexOss)
            .unwrap_or(&CUSTOM)
    }

    /// Its phrases and the network's; every CLI's for a custom command.
    fn phrases(&self) -> Box<dyn Iterator<Item = &'static (Cannot, &'static str)> + '_> {
        match self.preset {
            Preset::Custom | Preset::Auto => {
                Box::new(PROFILES.iter().flat_map(|p| p.says).chain(NETWORK))
            }
            _ => Box::new(self.says.iter().chain(NETWORK)),
        }
    }

    /// Whether `line`, one status line of the agent's, says it cannot
    /// work. Only a line that *starts* with a phrase counts, after the
    /// CLI's frame, its marks and its `Error:` prefixes: text the agent
    /// shows from elsewhere (a gateway log line with `rate_limit_error` in
    /// its JSON, a `cat` of a file) starts with a timestamp or a brace, so
    /// whoever can write into the service's log cannot switch level 3 off.
    pub fn cannot(&self, line: &str) -> Option<Cannot> {
        let lower = line.to_lowercase();
        // Each form of the line as its prefixes come off ("api error: 429"
        // is a phrase, and so is what follows "Error: ").
        let mut core = lower.trim_start_matches(MARKS);
        loop {
            if let Some(found) = self.phrases().find(|(_, p)| core.starts_with(p)) {
                return Some(found.0);
            }
            let next = strip_prefix(core)?;
            core = next;
        }
    }

    /// Whether an interactive command of this CLI lacks every flag that
    /// lets it act without asking (a batch command never waits on a
    /// person).
    pub fn stalls(&self, argv: &[String]) -> bool {
        let batch = argv.iter().any(|a| a.contains("{prompt_file}"));
        !batch
            && !self.unattended.is_empty()
            && !argv.iter().skip(1).any(|a| {
                self.unattended
                    .iter()
                    .any(|f| a == f || a.starts_with(&format!("{f}=")))
            })
    }
}

/// The TUI's frame and marks before a status line.
const MARKS: [char; 9] = ['│', '|', '⎿', '●', '⏺', '✗', '✕', '>', ' '];

/// One of the CLIs' prefixes off the front of a line: `Attempt 3 failed.
/// Retrying with backoff... `, `API Error: `, `ERROR: `, `exception `,
/// `TypeError: `; `None` when it starts with none.
fn strip_prefix(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix("attempt ") {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        if let Some(rest) = rest.strip_prefix(" failed. retrying with backoff... ") {
            return Some(rest);
        }
    }
    ["api error: ", "error: ", "exception ", "typeerror: "]
        .iter()
        .find_map(|p| line.strip_prefix(p))
}

/// One agent level 3 may run: its profile and its argv (placeholders not
/// yet filled in).
#[derive(Debug, Clone)]
pub struct Agent {
    pub profile: &'static Profile,
    pub argv: Vec<String>,
    /// The key it came from, for messages.
    pub key: &'static str,
}

impl Agent {
    /// `{prompt_file}` in its command: it works on its own and is done when
    /// it exits; otherwise it is interactive.
    pub fn batch(&self) -> bool {
        self.argv
            .iter()
            .any(|a| a.contains("{prompt}") || a.contains("{prompt_file}"))
    }

    /// The readiness question's extra words for an interactive command.
    pub fn ask_suffix(&self) -> &'static [&'static str] {
        if self.batch() {
            &[]
        } else {
            ASK_PRINT
        }
    }
}

/// The agent and its fallback. `cmd` is `SELFHEAL_AGENT_CMD` (`auto`: the
/// preset's command; empty: no level 3), `fallback` the fallback's words (a
/// preset's name alone is that preset's command). `model` goes to preset
/// commands only: a command of the user's says its own.
pub fn resolve(preset: Preset, cmd: &[String], fallback: &[String], model: &str) -> Vec<Agent> {
    let mut agents = Vec::new();
    if !cmd.is_empty() {
        let auto = cmd == ["auto"];
        let profile = match (preset, auto) {
            (Preset::Auto, true) => Profile::of(Preset::Claude),
            (Preset::Auto, false) => Profile::of_program(&cmd[0]),
            (p, _) => Profile::of(p),
        };
        let argv = if auto {
            preset_argv(profile, model)
        } else {
            cmd.to_vec()
        };
        if !argv.is_empty() {
            agents.push(Agent {
                profile,
                argv,
                key: "SELFHEAL_AGENT_CMD",
            });
        }
    }
    if let Some(first) = fallback.first() {
        let named = (fallback.len() == 1)
            .then(|| PROFILES.iter().find(|p| p.name == first))
            .flatten();
        let (profile, argv) = match named {
            Some(p) => (p, preset_argv(p, model)),
            None => (Profile::of_program(first), fallback.to_vec()),
        };
        agents.push(Agent {
            profile,
            argv,
            key: "SELFHEAL_AGENT_FALLBACK_CMD",
        });
    }
    agents
}

fn preset_argv(profile: &Profile, model: &str) -> Vec<String> {
    let mut argv: Vec<String> = profile.work.iter().map(|s| s.to_string()).collect();
    if !model.is_empty() && !profile.model_flag.is_empty() && !argv.is_empty() {
        // Options before the prompt argument, which batch commands end with.
        let at = if profile.work.iter().any(|a| a.contains("{prompt_file}")) {
            argv.len() - 1
        } else {
            argv.len()
        };
        argv.splice(at..at, [profile.model_flag.to_string(), model.to_string()]);
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn each_cli_is_known_by_its_own_status_lines_only() {
        let claude = Profile::of(Preset::Claude);
        let codex = Profile::of(Preset::Codex);
        let gemini = Profile::of(Preset::Gemini);
        let oss = Profile::of(Preset::CodexOss);
        // Measured offline (codex 0.171, gemini 0.61, claude 2.1).
        for (p, line, want) in [
            (claude, "Not logged in · Please run /login", Cannot::NotLoggedIn),
            (claude, "  ⎿  API Error: 429 {\"type\":\"rate_limit_error\"}", Cannot::Quota),
            (codex, "ERROR: Reconnecting... waiting for network", Cannot::NoNetwork),
            (oss, "Error: OSS setup failed: No running Ollama server detected.", Cannot::NoNetwork),
            (gemini, "Please set an Auth method in your /h/.gemini/settings.json", Cannot::NotLoggedIn),
            (
                gemini,
                "Attempt 2 failed. Retrying with backoff... Error: exception TypeError: fetch failed sending request",
                Cannot::NoNetwork,
            ),
        ] {
            assert_eq!(p.cannot(line), Some(want), "{line}");
            assert_eq!(CUSTOM.cannot(line), Some(want), "custom: {line}");
        }
        // Another CLI's words, the agent's prose and quoted logs never count.
        assert_eq!(
            claude.cannot("ERROR: Reconnecting... waiting for network"),
            None
        );
        for line in [
            "{\"time\":\"2026-11-24T03:00:00Z\",\"msg\":\"provider: rate_limit_error\"}",
            "2026-12-06T23:31:22Z ERROR codex_api: failed to connect",
            "● The gateway log says \"usage limit reached\" for the provider",
            "Attempt 2 failed. Retrying with backoff... fine",
            "Attempt",
            "",
        ] {
            assert_eq!(CUSTOM.cannot(line), None, "{line}");
        }
    }

    #[test]
    fn presets_commands_and_the_profile_of_a_users_command() {
        let a = resolve(Preset::Auto, &words("auto"), &[], "");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].argv, ["claude"]);
        assert_eq!(a[0].profile.preset, Preset::Claude);
        let a = resolve(Preset::Codex, &words("auto"), &words("gemini"), "o4");
        assert_eq!(a[0].argv[..2], ["codex", "exec"]);
        assert_eq!(
            a[0].argv[a[0].argv.len() - 3..],
            ["-m", "o4", "Follow the instructions in {prompt_file}"]
        );
        assert_eq!(a[1].profile.preset, Preset::Gemini);
        assert!(a[1].batch());
        let a = resolve(
            Preset::Auto,
            &words("/opt/bin/codex exec x {prompt_file}"),
            &words("./wrap.sh -x"),
            "m",
        );
        assert_eq!(a[0].profile.preset, Preset::Codex);
        assert_eq!(a[0].argv.len(), 4, "a user's command is run as written");
        assert_eq!(a[1].profile.preset, Preset::Custom);
        assert!(resolve(Preset::Gemini, &[], &[], "").is_empty());
        let a = resolve(Preset::CodexOss, &words("auto"), &[], "");
        assert!(a[0].argv.contains(&"--oss".to_string()));
    }

    #[test]
    fn an_interactive_command_without_permission_flags_stalls() {
        let claude = Profile::of(Preset::Claude);
        assert!(claude.stalls(&words("claude")));
        assert!(!claude.stalls(&words("claude --permission-mode acceptEdits")));
        assert!(!claude.stalls(&words("claude --permission-mode=acceptEdits")));
        assert!(!claude.stalls(&words("claude -p {prompt_file}")));
        assert!(!Profile::of(Preset::Codex).stalls(&words("codex exec")));
        assert!(!CUSTOM.stalls(&words("my-agent")));
    }

    #[test]
    fn preset_names_parse() {
        for p in PROFILES {
            assert_eq!(p.name.parse::<Preset>(), Ok(p.preset));
        }
        assert_eq!("custom".parse::<Preset>(), Ok(Preset::Custom));
        assert!("openai".parse::<Preset>().is_err());
    }
}
