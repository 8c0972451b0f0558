//! ARCHITECTURE.md, checked: module dependencies point one way (no module uses one that
//! uses it back), the backend's lower layers know no HTTP, and the domain knows no storage,
//! HTTP or runtime. Read from the sources, so a new context that breaks a rule fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every module of a crate's `src/` and the source text that belongs to it (its
/// `#[cfg(test)] mod tests` blocks and comment lines left out).
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path
                    .strip_prefix(src)
                    .expect("below src")
                    .with_extension("");
                let mut module: Module = relative
                    .iter()
                    .map(|part| part.to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    module.pop();
                }
                if module.last().is_some_and(|name| name == "tests") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("a source file");
                let text = match text.find("#[cfg(test)]\nmod tests {") {
                    Some(at) => &text[..at],
                    None => &text[..],
                };
                // Comments (and doc links in them) are not dependencies.
                let text: String = text
                    .lines()
                    .filter(|line| !line.trim_start().starts_with("//"))
                    .map(|line| format!("{line}\n"))
                    .collect();
                found.insert(module, text);
            }
        }
    }
    found
}

/// The paths (`a::b::c`) written after each occurrence of `prefix` in `text`, with
/// `prefix{a, b::c}` groups expanded, and where each was written.
fn paths_after(text: &str, prefix: &str) -> Vec<(usize, Vec<String>)> {
    let mut paths = Vec::new();
    for (at, _) in text.match_indices(prefix) {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &text[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                paths.push((at, path_of(item.trim())));
            }
        } else {
            paths.push((at, path_of(rest)));
        }
    }
    paths
}

fn path_of(text: &str) -> Vec<String> {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    text[..end]
        .split("::")
        .filter(|part| !part.is_empty())
        .map(str::to_string)
        .collect()
}

/// Where the file's inline `mod name { … }` blocks are: `super::` inside one means the
/// file's own module.
fn inline_modules(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    for (at, _) in text.match_indices("mod ") {
        let rest = &text[at + 4..];
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if name_len == 0 || !rest[name_len..].trim_start().starts_with('{') {
            continue;
        }
        let open = at + 4 + name_len + rest[name_len..].find('{').unwrap_or(0);
        let mut depth = 0;
        for (offset, c) in text[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        ranges.push(open..open + offset);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    ranges
}

/// The longest prefix of `path` that is a module.
fn resolve(modules: &BTreeMap<Module, String>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|candidate| modules.contains_key(candidate))
}

/// Which modules each module uses: `crate::…`, `super::…`, and its own children by name.
fn dependencies(modules: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut graph = BTreeMap::new();
    for (module, text) in modules {
        let mut uses = BTreeSet::new();
        for (_, path) in paths_after(text, "crate::") {
            uses.extend(resolve(modules, &path));
        }
        let parent = &module[..module.len().saturating_sub(1)];
        let inline = inline_modules(text);
        for (at, path) in paths_after(text, "super::") {
            let base = if inline.iter().any(|range| range.contains(&at)) {
                &module[..]
            } else {
                parent
            };
            let full: Vec<String> = base.iter().cloned().chain(path).collect();
            uses.extend(resolve(modules, &full));
        }
        for child in modules.keys() {
            let is_child = child.len() == module.len() + 1 && child.starts_with(module);
            if is_child && !paths_after(text, &format!("{}::", child[module.len()])).is_empty() {
                uses.insert(child.clone());
            }
        }
        uses.remove(module);
        graph.insert(module.clone(), uses);
    }
    graph
}

/// Modules that use each other, directly or through others (strongly connected components
/// of more than one module).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    let reaches = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&Module> = graph[from].iter().collect();
        while let Some(next) = todo.pop() {
            if seen.insert(next.clone()) {
                todo.extend(graph.get(next).into_iter().flatten());
            }
        }
        seen
    };
    let reach: BTreeMap<&Module, BTreeSet<Module>> =
        graph.keys().map(|m| (m, reaches(m))).collect();
    let mut found = BTreeSet::new();
    for (module, reached) in &reach {
        let mut cycle: Vec<String> = reached
            .iter()
            .filter(|other| *other != *module && reach[other].contains(*module))
            .map(|m| m.join("::"))
            .collect();
        if !cycle.is_empty() {
            cycle.push(module.join("::"));
            cycle.sort();
            found.insert(cycle);
        }
    }
    found.into_iter().collect()
}

fn workspace(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

#[test]
fn no_module_uses_one_that_uses_it_back() {
    for crate_src in [
        "domain/src",
        "backend/store/src",
        "projections/src",
        "backend/src",
        "backend/agents/src",
        "frontend/src",
    ] {
        let modules = modules(&workspace(crate_src));
        assert!(modules.len() > 3, "{crate_src}: no modules found");
        let cycles = cycles(&dependencies(&modules));
        assert!(cycles.is_empty(), "{crate_src} has cycles: {cycles:?}");
    }
}

#[test]
fn the_backends_lower_layers_know_no_http_and_no_layer_above_them() {
    let modules = modules(&workspace("backend/src"));
    let graph = dependencies(&modules);
    // (layer, what it must not use)
    let rules: [(&str, &[&str]); 8] = [
        ("http", &["api", "app", "cli", "workers"]),
        ("workers", &["api", "app", "cli", "http", "state"]),
        (
            "commands",
            &["api", "app", "cli", "http", "workers", "state"],
        ),
        (
            "auth",
            &[
                "api",
                "app",
                "cli",
                "http",
                "workers",
                "commands",
                "connectors",
                "state",
            ],
        ),
        (
            "connectors",
            &[
                "api", "app", "cli", "http", "workers", "commands", "auth", "state",
            ],
        ),
        // What every handler reaches: above the services it holds (the connectors'
        // credentials), below the HTTP plumbing that hands it out.
        ("state", &["api", "app", "cli", "http"]),
        (
            "config",
            &[
                "api",
                "app",
                "cli",
                "http",
                "workers",
                "commands",
                "auth",
                "connectors",
                "state",
            ],
        ),
        (
            "infra",
            &[
                "api",
                "app",
                "cli",
                "http",
                "workers",
                "commands",
                "auth",
                "connectors",
                "state",
            ],
        ),
    ];
    for (layer, forbidden) in rules {
        for (module, uses) in graph
            .iter()
            .filter(|(m, _)| m.first().is_some_and(|top| top == layer))
        {
            for used in uses {
                assert!(
                    !used
                        .first()
                        .is_some_and(|top| forbidden.contains(&top.as_str())),
                    "{} uses {}",
                    module.join("::"),
                    used.join("::")
                );
            }
            let text = &modules[module];
            if layer != "http" {
                for http in ["axum::", "StatusCode", "ApiError"] {
                    assert!(
                        !text.contains(http),
                        "{} names {http}: HTTP belongs in http/ and api/",
                        module.join("::")
                    );
                }
            }
        }
    }
}

#[test]
fn the_domain_knows_no_storage_http_or_runtime() {
    for (module, text) in modules(&workspace("domain/src")) {
        for crate_name in ["sqlx", "axum", "tokio", "reqwest", "cqrs_es", "postgres_es"] {
            assert!(
                !text.contains(&format!("{crate_name}::")),
                "domain::{} uses {crate_name}",
                module.join("::")
            );
        }
    }
}

#[test]
fn no_component_of_the_spa_imports_a_page() {
    let modules = modules(&workspace("frontend/src"));
    let graph = dependencies(&modules);
    for (module, uses) in graph
        .iter()
        .filter(|(m, _)| m.first().is_some_and(|t| t == "components"))
    {
        for used in uses {
            assert!(
                used.first().is_none_or(|top| top != "pages"),
                "{} imports {}",
                module.join("::"),
                used.join("::")
            );
        }
    }
}

#[test]
fn aggregate_type_names_come_from_the_type_not_string_literals() {
    for crate_src in ["backend/src", "backend/store/src", "projections/src"] {
        for (module, text) in modules(&workspace(crate_src)) {
            for name in caseyos_domain::registry::aggregate_type_names() {
                // Some type names are ordinary words too (a move's target has a "contact"):
                // a literal counts where it names an aggregate type — in SQL (`'contact'`)
                // or on a line that speaks of aggregates.
                let (quoted, sql) = (format!("\"{name}\""), format!("'{name}'"));
                for line in text.lines() {
                    let names_type = line.contains(&sql)
                        || (line.contains(&quoted) && line.to_lowercase().contains("aggregate"));
                    assert!(
                        !names_type,
                        "{crate_src} {}: the literal {name:?} in `{}`; use the aggregate's TYPE",
                        module.join("::"),
                        line.trim()
                    );
                }
            }
        }
    }
}

#[test]
fn the_checker_finds_a_cycle_when_there_is_one() {
    let modules: BTreeMap<Module, String> = [
        (vec!["a".to_string()], "use crate::b::thing;".to_string()),
        (
            vec!["b".to_string()],
            "fn f() { crate::a::other() }".to_string(),
        ),
        (vec!["c".to_string()], "use crate::{a, b};".to_string()),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        cycles(&dependencies(&modules)),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
}
