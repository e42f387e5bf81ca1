//! Every citation of the protocol spec in the workspace (`PROTOCOL.md section 4`,
//! "`docs/PROTOCOL.md` (sections 2, 4 and 5)", ...) names a section that `docs/PROTOCOL.md`
//! has, so a reader following one finds the text it points at.

use std::path::{Path, PathBuf};

use nano_tests::workspace_root;

const SPEC: &str = "PROTOCOL.md";

/// Folders that hold no sources of nano-rs.
const SKIPPED: [&str; 6] = [
    "target",
    "node_modules",
    ".git",
    "corpus",
    "artifacts",
    "results",
];

/// The source and documentation files under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if path.is_dir() {
            if !SKIPPED.contains(&name) {
                sources(&path, found);
            }
        } else if [".rs", ".js", ".md", ".toml"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            found.push(path);
        }
    }
}

/// The numbered sections of the spec: `## 4. Handshake ...` gives 4.
fn spec_sections(spec: &str) -> Vec<u32> {
    spec.lines()
        .filter_map(|line| line.strip_prefix("## "))
        .filter_map(|title| title.split_once('.'))
        .filter_map(|(number, _)| number.parse().ok())
        .collect()
}

/// The section numbers cited right after each mention of the spec in `text`, as in
/// "PROTOCOL.md section 1", "`docs/PROTOCOL.md`, section 5" or "PROTOCOL.md (sections 2 and
/// 5)"; comment markers of a wrapped line are skipped. A mention citing no section gives none.
fn cited_sections(text: &str) -> Vec<u32> {
    let mut cited = Vec::new();
    for (at, _) in text.match_indices(SPEC) {
        let after: String = text[at + SPEC.len()..].chars().take(80).collect();
        let words: Vec<&str> = after
            .split(|c: char| c.is_whitespace() || "`(),/!*".contains(c))
            .filter(|word| !word.is_empty())
            .collect();
        let Some(start) = words
            .iter()
            .take(2)
            .position(|word| *word == "section" || *word == "sections")
        else {
            continue;
        };
        cited.extend(
            words[start + 1..]
                .iter()
                .take_while(|word| *word == &"and" || word.parse::<u32>().is_ok())
                .filter_map(|word| word.parse::<u32>().ok()),
        );
    }
    cited
}

#[test]
fn every_cited_section_of_the_protocol_spec_exists() {
    let root = workspace_root();
    let spec = std::fs::read_to_string(root.join("docs").join(SPEC))
        .expect("the protocol spec is docs/PROTOCOL.md");
    let sections = spec_sections(&spec);
    assert!(
        sections.contains(&5),
        "numbered sections in the spec: {sections:?}"
    );
    let mut files = Vec::new();
    sources(root, &mut files);
    let mut citations = 0;
    let mut unknown = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for section in cited_sections(&text) {
            citations += 1;
            if !sections.contains(&section) {
                unknown.push(format!("{}: section {section}", file.display()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "sections the spec does not have: {unknown:#?}"
    );
    assert!(
        citations >= 10,
        "only {citations} citations found: is the scan broken?"
    );
}

#[test]
fn citations_are_read_as_written() {
    assert_eq!(cited_sections("framed as PROTOCOL.md section 1 says"), [1]);
    assert_eq!(
        cited_sections("machine of `docs/PROTOCOL.md`\n//! section 4, written once"),
        [4]
    );
    assert_eq!(
        cited_sections("examples of `docs/PROTOCOL.md` (sections 2, 4 and 5), in both"),
        [2, 4, 5]
    );
    assert_eq!(
        cited_sections("see docs/PROTOCOL.md, section 5 (Worked bytes)"),
        [5]
    );
    assert!(cited_sections("specified in [PROTOCOL.md](PROTOCOL.md); the").is_empty());
    assert_eq!(
        spec_sections("# T\n## 1. Transports\n## 2. Packet layer\n## Notes"),
        [1, 2]
    );
}
