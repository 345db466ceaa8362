//! Guards of the layout described in docs/ARCHITECTURE.md. Each reads the sources and fails
//! with the file and line that broke the rule:
//!
//! 1. `src/cloud/` and `src/sim/` know nothing of Kubernetes: no `kube` or `k8s_openapi`.
//! 2. The controllers' shared runtime (`src/controller/runtime/`) knows no kind: it never names
//!    `controller::kinds`.
//! 3. No import cycle between modules of `src/controller/` or `src/cloud/` (a module and its
//!    own submodules may refer to each other: that is how Rust shares a parent's types).
//! 4. Size: no non-test function under `src/controller/` longer than 120 lines, no non-test
//!    file there longer than 600 lines.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_FN_LINES: usize = 120;
const MAX_FILE_LINES: usize = 600;

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("readable dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn rel(path: &Path) -> String {
    path.strip_prefix(src())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The code of a line: without a `//` comment (string contents are rare enough here).
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Code lines with their numbers, without comments.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, code(l)))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect()
}

#[test]
fn cloud_and_sim_know_nothing_of_kubernetes() {
    let mut found = Vec::new();
    for dir in ["cloud", "sim"] {
        for file in rust_files(&src().join(dir)) {
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in code_lines(&text) {
                let words: Vec<&str> = line
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .collect();
                if words.iter().any(|w| {
                    w.starts_with("kube::") || *w == "kube" || w.starts_with("k8s_openapi")
                }) {
                    found.push(format!("{}:{n}: {}", rel(&file), line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "src/cloud and src/sim must not use kube or k8s_openapi:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_runtime_knows_no_kind() {
    let mut found = Vec::new();
    for file in rust_files(&src().join("controller/runtime")) {
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in code_lines(&text) {
            if line.contains("kinds::") || line.contains("kinds::{") {
                found.push(format!("{}:{n}: {}", rel(&file), line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "src/controller/runtime must not name a kind (controller::kinds):\n{}",
        found.join("\n")
    );
}

/// A module path (`controller::runtime::kube`) of a file.
fn module_of(file: &Path) -> Vec<String> {
    let r = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = r
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// Expands one `use` tree (`a::{b, c::{d, e}}`) into its paths, each a list of segments.
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![path
            .split("::")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()];
    };
    let prefix: Vec<String> = tree[..open]
        .split("::")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    // Split the group at top-level commas.
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand_use)
        .map(|tail| {
            let mut p = prefix.clone();
            p.extend(tail.into_iter().filter(|t| t != "self"));
            p
        })
        .collect()
}

/// The module paths a file refers to, in `use` statements and inline (`crate::a::b`,
/// `super::c`), resolved to absolute paths. The longest known module prefix of each is taken
/// later.
fn references(file: &Path, text: &str) -> Vec<(usize, Vec<String>)> {
    let here = module_of(file);
    let parent = |m: &[String]| m[..m.len().saturating_sub(1)].to_vec();
    let resolve = |mut segs: Vec<String>| -> Option<Vec<String>> {
        match segs.first().map(String::as_str) {
            Some("crate") => Some(segs.split_off(1)),
            Some("super") => {
                let mut base = parent(&here);
                segs.remove(0);
                while segs.first().map(String::as_str) == Some("super") {
                    base = parent(&base);
                    segs.remove(0);
                }
                base.extend(segs);
                Some(base)
            }
            Some("self") => {
                let mut base = here.clone();
                base.extend(segs.split_off(1));
                Some(base)
            }
            _ => None,
        }
    };
    let code: Vec<&str> = text.lines().map(code).collect();
    let joined = code.join("\n");
    let line_of = |offset: usize| joined[..offset].matches('\n').count() + 1;
    let mut out = Vec::new();
    // `use` statements, which may span lines and group paths.
    let mut rest = 0;
    while let Some(i) = joined[rest..].find("use ") {
        let at = rest + i;
        rest = at + 4;
        let boundary =
            at == 0 || !joined[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let Some(end) = joined[at..].find(';') else {
            break;
        };
        if boundary {
            for path in expand_use(&joined[at + 4..at + end]) {
                if let Some(p) = resolve(path) {
                    out.push((line_of(at), p));
                }
            }
        }
    }
    // Inline paths.
    for (n, line) in code.iter().enumerate() {
        let mut token = String::new();
        for c in line.chars().chain(std::iter::once(' ')) {
            if c.is_alphanumeric() || c == '_' || c == ':' {
                token.push(c);
                continue;
            }
            if token.contains("::") {
                let segs: Vec<String> = token
                    .trim_matches(':')
                    .split("::")
                    .map(str::to_string)
                    .collect();
                if let Some(p) = resolve(segs) {
                    out.push((n + 1, p));
                }
            }
            token.clear();
        }
    }
    out.into_iter().filter(|(_, p)| !p.is_empty()).collect()
}

#[test]
fn no_import_cycles_between_modules() {
    let mut files = rust_files(&src().join("controller"));
    files.extend(rust_files(&src().join("cloud")));
    let modules: BTreeMap<Vec<String>, PathBuf> =
        files.iter().map(|f| (module_of(f), f.clone())).collect();
    let ancestor = |a: &[String], b: &[String]| b.len() > a.len() && b[..a.len()] == *a;
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let mut why: BTreeMap<(Vec<String>, Vec<String>), String> = BTreeMap::new();
    for file in &files {
        let from = module_of(file);
        let text = fs::read_to_string(file).unwrap();
        for (line, path) in references(file, &text) {
            // The longest prefix that is a module of ours.
            let Some(to) = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains_key(p))
            else {
                continue;
            };
            if to == from || ancestor(&from, &to) || ancestor(&to, &from) {
                continue;
            }
            edges.entry(from.clone()).or_default().insert(to.clone());
            why.entry((from.clone(), to.clone()))
                .or_insert_with(|| format!("{}:{line}", rel(file)));
        }
    }
    // Tarjan's strongly connected components.
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on_stack: BTreeSet<Vec<String>>,
        next: usize,
        cycles: Vec<Vec<Vec<String>>>,
    }
    fn visit(s: &mut State, v: &Vec<String>) {
        s.index.insert(v.clone(), s.next);
        s.low.insert(v.clone(), s.next);
        s.next += 1;
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        let targets: Vec<Vec<String>> = s.edges.get(v).into_iter().flatten().cloned().collect();
        for w in targets {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let lw = s.low[&w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(&w) {
                let iw = s.index[&w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = w == *v;
                component.push(w);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                s.cycles.push(component);
            }
        }
    }
    let mut s = State {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        cycles: Vec::new(),
    };
    for m in modules.keys() {
        if !s.index.contains_key(m) {
            visit(&mut s, m);
        }
    }
    let report: Vec<String> = s
        .cycles
        .iter()
        .map(|c| {
            let names: Vec<String> = c.iter().map(|m| m.join("::")).collect();
            let links: Vec<String> = c
                .iter()
                .flat_map(|a| c.iter().map(move |b| (a, b)))
                .filter_map(|(a, b)| {
                    why.get(&(a.clone(), b.clone()))
                        .map(|w| format!("  {} -> {} ({w})", a.join("::"), b.join("::")))
                })
                .collect();
            format!("{}\n{}", names.join(" <-> "), links.join("\n"))
        })
        .collect();
    assert!(
        report.is_empty(),
        "import cycles between modules:\n{}",
        report.join("\n")
    );
    // The scan must see the layering it guards, or it is looking at nothing.
    let runtime = |m: &str| vec!["controller".to_string(), "runtime".into(), m.into()];
    assert!(
        edges
            .get(&runtime("reconcile"))
            .is_some_and(|t| t.contains(&runtime("contract"))),
        "the scan no longer sees reconcile -> contract: fix it"
    );
}

/// The files under `dir` that only tests compile: declared under `#[cfg(test)]`.
fn test_only_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for file in files {
        let text = fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let dir = if file.file_name().is_some_and(|n| n == "mod.rs") {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        for (i, line) in lines.iter().enumerate() {
            if line.trim() != "#[cfg(test)]" {
                continue;
            }
            // `#[path = "x.rs"]` (relative to this file's directory) may come between.
            let mut j = i + 1;
            let mut path = None;
            while let Some(attr) = lines
                .get(j)
                .map(|l| l.trim())
                .filter(|l| l.starts_with("#["))
            {
                if let Some(p) = attr
                    .strip_prefix("#[path = \"")
                    .and_then(|r| r.strip_suffix("\"]"))
                {
                    path = Some(file.parent().unwrap().join(p));
                }
                j += 1;
            }
            let decl = lines.get(j).map(|l| l.trim()).unwrap_or_default();
            if let Some(name) = decl
                .strip_prefix("pub mod ")
                .or_else(|| decl.strip_prefix("mod "))
                .and_then(|r| r.strip_suffix(';'))
            {
                match path {
                    Some(p) => {
                        out.insert(p);
                    }
                    None => {
                        out.insert(dir.join(format!("{name}.rs")));
                        out.insert(dir.join(name).join("mod.rs"));
                    }
                }
            }
        }
    }
    out
}

/// The lines of a file before its inline `#[cfg(test)] mod ... {` block.
fn non_test_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| {
            w[0].trim() == "#[cfg(test)]"
                && w[1].trim_start().starts_with("mod ")
                && w[1].trim_end().ends_with('{')
        })
        .unwrap_or(lines.len());
    lines[..end].to_vec()
}

/// `(name, first line, length)` of every function in `lines` (rustfmt puts a function's
/// closing brace at the indentation of its `fn`).
fn functions(lines: &[&str]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let rest = ["pub(crate) ", "pub(super) ", "pub ", ""]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .unwrap_or(t);
        let rest = rest.strip_prefix("const ").unwrap_or(rest);
        let rest = rest.strip_prefix("async ").unwrap_or(rest);
        let Some(sig) = rest.strip_prefix("fn ") else {
            continue;
        };
        let name: String = sig
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // A declaration without a body (trait method) ends with `;` before any `{`.
        let mut end = None;
        let mut has_body = false;
        for (j, l) in lines.iter().enumerate().skip(i) {
            let lt = l.trim_end();
            if !has_body {
                if lt.ends_with(';') && !lt.contains('{') {
                    break;
                }
                if lt.contains('{') {
                    has_body = true;
                    if lt.ends_with('}') && j == i {
                        end = Some(j);
                        break;
                    }
                }
            }
            if has_body && j > i {
                let li = l.len() - l.trim_start().len();
                if li == indent && l.trim_start().starts_with('}') {
                    end = Some(j);
                    break;
                }
            }
        }
        if let Some(e) = end {
            out.push((name, i + 1, e - i + 1));
        }
    }
    out
}

#[test]
fn controller_functions_and_files_stay_small() {
    let files = rust_files(&src().join("controller"));
    let tests = test_only_files(&files);
    let mut too_long = Vec::new();
    let mut longest = (String::new(), 0usize);
    for file in files.iter().filter(|f| !tests.contains(*f)) {
        let text = fs::read_to_string(file).unwrap();
        let lines = non_test_lines(&text);
        if lines.len() > MAX_FILE_LINES {
            too_long.push(format!(
                "{}: {} lines (at most {MAX_FILE_LINES})",
                rel(file),
                lines.len()
            ));
        }
        for (name, at, len) in functions(&lines) {
            if len > longest.1 {
                longest = (format!("{}:{at} {name}", rel(file)), len);
            }
            if len > MAX_FN_LINES {
                too_long.push(format!(
                    "{}:{at}: fn {name} has {len} lines (at most {MAX_FN_LINES})",
                    rel(file)
                ));
            }
        }
    }
    println!(
        "longest non-test function under src/controller: {} ({} lines)",
        longest.0, longest.1
    );
    assert!(longest.1 > 10, "the scan found no functions: fix it");
    assert!(too_long.is_empty(), "{}", too_long.join("\n"));
}

#[test]
fn the_function_scanner_measures_what_rustfmt_writes() {
    let text =
        "fn a() {\n    x();\n}\n\npub async fn b(\n    y: u8,\n) -> u8 {\n    y\n}\nfn decl();\n";
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        functions(&lines),
        vec![("a".to_string(), 1, 3), ("b".to_string(), 5, 5)]
    );
}
