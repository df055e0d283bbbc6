//! The layering of `docs/architecture.md` as a test over the sources in
//! `src/`: which crates each folder may name, that `service/` imports
//! nothing from `api/`, that `domain/` depends only on itself and the
//! error type, and that `http/` and `api/` reach the store and the host
//! ports only through service methods.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/` (the console's sources excluded), as
/// (path relative to `src/`, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "ui") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The code of a file without its comments (so prose may name anything).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn named(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        i == 0
            || !code[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn violations(rule: impl Fn(&str, &str) -> Option<String>) -> Vec<String> {
    sources()
        .iter()
        .filter_map(|(path, text)| rule(path, &code(text)).map(|why| format!("{path}: {why}")))
        .collect()
}

#[test]
fn each_outside_crate_is_named_only_in_its_own_folder() {
    let own = [
        ("tide::", &["http/"][..]),
        ("sled::", &["store/"]),
        ("bincode::", &["store/"]),
        ("virt::", &["host/"]),
        ("rtnetlink::", &["host/"]),
        ("ssh2::", &["host/"]),
    ];
    let bad = violations(|path, code| {
        own.iter()
            .find(|(krate, dirs)| named(code, krate) && !dirs.iter().any(|d| path.starts_with(d)))
            .map(|(krate, _)| format!("names {krate}"))
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn services_import_nothing_from_the_wire_types() {
    let bad = violations(|path, code| {
        (path.starts_with("service/") && code.contains("crate::api"))
            .then(|| "imports crate::api".to_string())
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_domain_depends_on_nothing_but_itself() {
    let bad = violations(|path, code| {
        if !path.starts_with("domain/") {
            return None;
        }
        code.match_indices("crate::")
            .map(|(i, _)| &code[i + 7..])
            .find(|rest| !rest.starts_with("domain") && !rest.starts_with("error"))
            .map(|rest| format!("uses crate::{}", rest.split(['\n', ';']).next().unwrap()))
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn handlers_and_wire_types_reach_the_store_and_host_only_through_services() {
    const PORTS: &[&str] = &[
        "store",
        "hypervisor",
        "notifier",
        "net",
        "inventory",
        "storage",
        "disks",
        "metrics",
        "remote",
        "node_client",
        "power",
        "fetch",
        "accounts",
        "clock",
        "files",
    ];
    let bad = violations(|path, code| {
        if !(path.starts_with("http/") || path.starts_with("api/")) {
            return None;
        }
        PORTS.iter().find_map(|port| {
            ["services.", " s.", "(s."].iter().find_map(|holder| {
                [".", ")", ",", ";"].iter().find_map(|after| {
                    let pat = format!("{holder}{port}{after}");
                    code.contains(&pat)
                        .then(|| format!("reads Services::{port} directly ({pat})"))
                })
            })
        })
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

/// The checks above can fail: each finds what it looks for in a sample.
#[test]
fn the_checks_see_what_they_look_for() {
    assert!(named("use sled::Db;", "sled::"));
    assert!(!named("use notsled::Db;", "sled::"));
    assert_eq!(code("let a = 1; // sled::Db"), "let a = 1; ");
    let s = code("c.services.store.node_list()");
    assert!(s.contains("services.store."));
}
