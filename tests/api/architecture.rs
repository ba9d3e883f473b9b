//! The project's own documents stay true to the tree: `docs/architecture.md` lists every source
//! file and nothing else, and every `§` of `docs/api.md` cited in the code names a section that
//! exists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Every `.rs` file under `dir`, relative to the repository root, `/`-separated.
fn rust_files(dir: &str) -> BTreeSet<String> {
    fn walk(dir: &Path, into: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, into);
            } else if path.extension().is_some_and(|e| e == "rs") {
                into.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root().join(dir), &mut found);
    found.into_iter().map(|p| p.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/")).collect()
}

/// The text of the `## ` section whose title contains `title`, up to the next `## ` heading.
fn section<'d>(doc: &'d str, title: &str) -> Option<&'d str> {
    let start = doc
        .match_indices("\n## ")
        .map(|(i, _)| i + 1)
        .find(|&i| doc[i..].lines().next().is_some_and(|l| l.contains(title)))?;
    let end = doc[start + 3..].find("\n## ").map_or(doc.len(), |e| start + 3 + e);
    Some(&doc[start..end])
}

/// The paths of the source tree listed in the fenced block under `## Source tree`: each line
/// `path  — what it holds`, directories ending in `/` with their files indented beneath them.
fn listed_tree(doc: &str) -> BTreeSet<String> {
    let section = section(doc, "Source tree").expect("docs/architecture.md has a `Source tree` section");
    let block = section.split("```").nth(1).expect("the section holds a fenced block");
    let mut dirs: Vec<(usize, String)> = Vec::new();
    let mut files = BTreeSet::new();
    for line in block.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let indent = line.len() - line.trim_start().len();
        let name = line.split_whitespace().next().unwrap();
        while dirs.last().is_some_and(|(depth, _)| *depth >= indent) {
            dirs.pop();
        }
        let path = dirs.last().map_or_else(|| name.to_owned(), |(_, parent)| format!("{parent}{name}"));
        if name.ends_with('/') {
            dirs.push((indent, path));
        } else {
            files.insert(path);
        }
    }
    files
}

#[test]
fn the_architecture_document_lists_every_source_file_and_no_other() {
    let doc = read("docs/architecture.md");
    let listed = listed_tree(&doc);
    let actual: BTreeSet<String> = ["src", "bench/src"].iter().flat_map(|d| rust_files(d)).collect();
    let missing: Vec<_> = actual.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&actual).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/architecture.md `## Source tree` is out of step with the tree.\n\
         not listed: {missing:#?}\nlisted but absent: {stale:#?}"
    );
}

/// Every `src/`, `tests/` or `migrations/` path the document names in backticks exists, but in the
/// walk-through of adding a feature, which names the files such a feature would create.
#[test]
fn every_path_the_architecture_document_names_exists() {
    let whole = read("docs/architecture.md");
    let walk_through = section(&whole, "Adding a feature").expect("the document walks through adding a feature");
    let doc = whole.replace(walk_through, "");
    let named: BTreeSet<&str> = doc
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("src/") || s.starts_with("tests/") || s.starts_with("migrations/"))
        .filter(|s| !s.contains('*') && !s.contains('<') && !s.contains(' '))
        .collect();
    assert!(named.len() > 10, "the document names source paths in backticks: {named:?}");
    let absent: Vec<_> = named.iter().filter(|p| !root().join(p.trim_end_matches('/')).exists()).collect();
    assert!(absent.is_empty(), "docs/architecture.md names paths that do not exist: {absent:?}");
}

/// The section numbers of `docs/api.md`'s headings (`## 1.`, `### 1.4`, `#### 3.3.10` → `1`, `1.4`, `3.3.10`).
fn api_sections() -> BTreeSet<String> {
    read("docs/api.md")
        .lines()
        .filter(|l| l.starts_with("##"))
        .filter_map(|l| l.trim_start_matches('#').split_whitespace().next())
        .map(|n| n.trim_end_matches('.').to_owned())
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect()
}

/// `(file, line, section)` of every `§N.N…` in the Rust sources under `dirs` (the code cites no
/// other document by `§`).
fn cited_sections(dirs: &[&str]) -> Vec<(String, usize, String)> {
    let mut cited = Vec::new();
    for file in dirs.iter().flat_map(|d| rust_files(d)) {
        for (number, line) in read(&file).lines().enumerate() {
            for after in line.split('§').skip(1) {
                let section: String = after.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                let section = section.trim_end_matches('.').to_owned();
                if !section.is_empty() {
                    cited.push((file.clone(), number + 1, section));
                }
            }
        }
    }
    cited
}

#[test]
fn every_section_of_the_api_document_cited_in_the_code_exists() {
    let sections = api_sections();
    assert!(sections.contains("1.4") && sections.contains("3.3.10"), "headings are read: {sections:?}");
    let cited = cited_sections(&["src", "tests", "bench/src"]);
    assert!(cited.len() > 50, "the code cites docs/api.md by section: {} found", cited.len());
    let broken: Vec<_> = cited.iter().filter(|(_, _, s)| !sections.contains(s)).collect();
    assert!(broken.is_empty(), "sections cited in the code that docs/api.md does not have: {broken:#?}");
}
