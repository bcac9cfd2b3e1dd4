//! One entry of the learnings file (`recovery-learnings.md`), made from the
//! agent's report: what the next agent reads first. Writes nothing itself.

use std::path::Path;

use super::prompt;
use crate::sys::clock::local_now;
use crate::sys::log::stamp;

/// One entry of `recovery-learnings.md`.
pub struct Learning<'a> {
    pub recovered: bool,
    pub symptom: &'a str,
    pub root_cause: &'a str,
    pub report: &'a str,
    pub report_path: &'a Path,
}

impl Learning<'_> {
    pub fn render(&self) -> String {
        let fix = prompt::section(self.report, "Solution Applied").unwrap_or_else(|| "-".into());
        let prevention = prompt::section(self.report, "Prevention").unwrap_or_else(|| "-".into());
        let outcome = if self.recovered {
            "recovered by the agent"
        } else {
            "not recovered"
        };
        let report = if self.report.is_empty() {
            "none written".to_string()
        } else {
            self.report_path.display().to_string()
        };
        format!(
            "\n## {} — {outcome}\n\n- **Symptom:** {}\n- **Root cause:** {}\n- **Fix:** {}\n\
             - **Prevention:** {}\n- Report: {report}\n",
            stamp(local_now()),
            one_line(self.symptom),
            one_line(self.root_cause),
            one_line(&fix),
            one_line(&prevention),
        )
    }
}

pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
