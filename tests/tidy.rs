//! The shape of the code, checked: modules import downwards only (the
//! layers of ARCHITECTURE.md), no two files of a module import each other
//! (a parent and its own children aside), and no source file holds more
//! than `MAX_LINES` lines outside its tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules, highest first. A module may import only modules
/// after it (and `commands` and `cli` each other's options).
const LAYERS: &[&[&str]] = &[
    &["commands", "cli"],
    &["ladder"],
    &["agent"],
    &["alert"],
    &["ctx"],
    &["state"],
    &["probe"],
    &["config"],
    &["openclaw"],
    &["profile"],
    &["channel"],
    &["key"],
    &["kind"],
    &["sys"],
    &["fmt", "error"],
];

const MAX_LINES: usize = 600;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src").flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/ladder/evidence/mod.rs` → `ladder::evidence`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file: without its test module and its comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read");
    let text = match text.find("\n#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("//")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a file's code names: `crate::a::b` and `super::x` paths,
/// resolved to the longest module that exists.
fn imports(module: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let parent: Vec<&str> = module.split("::").collect();
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
        .collect();
    for w in words {
        let path: Vec<String> = if let Some(rest) = w.strip_prefix("crate::") {
            rest.split("::").map(str::to_string).collect()
        } else if let Some(rest) = w.strip_prefix("super::") {
            // `super` of a file `a::b` is `a` (of `a::b` as mod.rs: `a` too,
            // since its children say `super` for it).
            let base = &parent[..parent.len().saturating_sub(1)];
            base.iter()
                .map(|s| s.to_string())
                .chain(rest.split("::").map(str::to_string))
                .collect()
        } else {
            continue;
        };
        let path: Vec<String> = path
            .into_iter()
            .map(|p| p.trim_matches('{').to_string())
            .filter(|p| !p.is_empty())
            .collect();
        for n in (1..=path.len()).rev() {
            let m = path[..n].join("::");
            if known.contains(&m) {
                if m != module {
                    out.insert(m);
                }
                break;
            }
        }
    }
    out
}

fn layer(module: &str) -> Option<usize> {
    let top = module.split("::").next().unwrap_or("");
    LAYERS.iter().position(|l| l.contains(&top))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let known: BTreeSet<String> = all.iter().map(|p| module_of(p)).collect();
    all.iter()
        .map(|p| {
            let m = module_of(p);
            let i = imports(&m, &code(p), &known);
            (m, i)
        })
        .collect()
}

#[test]
fn modules_import_downwards_only() {
    let mut wrong = Vec::new();
    for (from, to) in graph() {
        let Some(lf) = layer(&from) else { continue };
        for t in to {
            let Some(lt) = layer(&t) else { continue };
            if lt < lf {
                wrong.push(format!("{from} → {t}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports running back up: {wrong:#?}");
}

#[test]
fn no_two_files_of_a_module_import_each_other() {
    let g = graph();
    let parent_of = |a: &str, b: &str| b.starts_with(&format!("{a}::"));
    let mut circles = BTreeSet::new();
    // A circle through siblings: a path back to the start.
    for start in g.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, path)) = stack.pop() {
            for next in g.get(&at).into_iter().flatten() {
                if parent_of(&at, next) || parent_of(next, &at) {
                    continue;
                }
                if next == start {
                    let mut c = path.clone();
                    c.sort();
                    circles.insert(c.join(" ↔ "));
                } else if !path.contains(next) && path.len() < 6 {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    assert!(circles.is_empty(), "circles: {circles:#?}");
}

#[test]
fn no_source_file_is_longer_than_600_lines_outside_its_tests() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let long: Vec<String> = all
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            let end = text.find("\n#[cfg(test)]\nmod tests").unwrap_or(text.len());
            let n = text[..end].lines().count();
            (n > MAX_LINES).then(|| format!("{}: {n}", module_of(p)))
        })
        .collect();
    assert!(long.is_empty(), "longer than {MAX_LINES} lines: {long:?}");
}
