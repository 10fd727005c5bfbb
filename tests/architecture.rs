//! The module graph: arrows between top-level modules of `src/` point one way.
//!
//! Reads every source file, collects the top-level modules each one names through `crate::`
//! (plain paths and `use crate::{…}` groups), and fails on any cycle and on any arrow the
//! layer rules forbid, naming the files that draw it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Arrows that must not exist even without a cycle: (from, to).
const FORBIDDEN: &[(&str, &str)] = &[
    ("api", "connect"),
    ("connect", "api"),
    ("sandbox", "api"),
    ("sandbox", "connect"),
    ("sandbox", "state"),
    ("oauth", "state"),
    ("oauth", "api"),
    ("oauth", "connect"),
    ("webhooks", "state"),
    // The engine and the publishers run without the web layer (workers, other processes).
    ("publish", "state"),
    ("publish", "api"),
    ("publish", "connect"),
    ("media", "state"),
    ("media", "api"),
    ("media", "connect"),
];

/// Modules that import nothing of ours but what is listed.
const ONLY: &[(&str, &[&str])] = &[("domain", &[]), ("db", &["domain"])];

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[test]
fn top_level_modules_form_no_cycle_and_keep_their_layers() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        graph.contains_key("api") && graph.contains_key("domain"),
        "read the tree"
    );
    let mut problems = Vec::new();
    for scc in strongly_connected(&graph) {
        if scc.len() > 1 {
            let arrows: Vec<String> = scc
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|(to, _)| scc.contains(*to))
                        .map(move |(to, files)| format!("  {from} -> {to} ({})", join(files)))
                })
                .collect();
            problems.push(format!("cycle among {scc:?}:\n{}", arrows.join("\n")));
        }
    }
    for (from, to) in FORBIDDEN {
        if let Some(files) = graph.get(*from).and_then(|e| e.get(*to)) {
            problems.push(format!("{from} must not import {to} ({})", join(files)));
        }
    }
    for (module, allowed) in ONLY {
        for (to, files) in graph.get(*module).into_iter().flatten() {
            if !allowed.contains(&to.as_str()) {
                problems.push(format!("{module} must not import {to} ({})", join(files)));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "module graph:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_reader_sees_grouped_and_plain_paths() {
    let text = "use crate::{db::{self, Db}, error::ApiError};\nfn f() { crate::web::get(); }\n// crate::commented\n";
    let found: BTreeSet<String> = referenced(text).into_iter().collect();
    assert_eq!(
        found,
        ["db", "error", "web"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let mut g = Graph::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(a.into()).or_default().entry(b.into()).or_default();
        g.entry(b.into()).or_default();
    }
    let sccs = strongly_connected(&g);
    assert!(sccs.iter().any(|s| s.len() == 3), "{sccs:?}");
}

fn join(files: &BTreeSet<String>) -> String {
    files.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// module -> module it names -> files naming it.
fn module_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).unwrap_or(&file);
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let Some(first) = first else { continue };
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        let edges = graph.entry(module.clone()).or_default();
        for to in referenced(&text) {
            if to != module {
                edges
                    .entry(to)
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    graph
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level modules a file names through `crate::`.
fn referenced(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let preceded = rest[..at].chars().last();
        if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            rest = after;
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        at_start = true;
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && at_start {
                    if c.is_alphanumeric() || c == '_' {
                        item.push(c);
                    } else if !item.is_empty() {
                        found.push(std::mem::take(&mut item));
                        at_start = false;
                    }
                }
            }
            if at_start && !item.is_empty() {
                found.push(item);
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
        rest = after;
    }
    found
}

/// Tarjan's strongly connected components.
fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flat_map(|e| e.keys()) {
            let w = w.as_str();
            if !s.graph.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.insert(w.to_owned());
                if w == v {
                    break;
                }
            }
            s.out.push(scc);
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}
