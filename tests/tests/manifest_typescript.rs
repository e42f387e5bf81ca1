//! TypeScript declarations generated from the chat example's manifest (`chat --typescript`),
//! checked by the TypeScript compiler pinned in `tests/interop`: code written against them
//! type-checks, and a wrong route name or a wrong field does not; and the copy committed as
//! `examples/chat/chat.d.ts` is what the example writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nano_tests::node::{ensure_installed, interop_dir};
use nano_tests::{examples, workspace_root};

/// A fresh folder with the chat's generated `chat.d.ts` and the TypeScript sources of
/// `tests/interop/typescript`.
fn project(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nano-rs-ts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let declarations = dir.join("chat.d.ts");
    let status = Command::new(examples::build("chat"))
        .arg("--typescript")
        .arg(&declarations)
        .status()
        .expect("run the chat example");
    assert!(status.success(), "chat --typescript failed: {status}");
    for source in std::fs::read_dir(interop_dir().join("typescript")).expect("sources") {
        let source = source.expect("source").path();
        std::fs::copy(&source, dir.join(source.file_name().expect("name"))).expect("copy");
    }
    dir
}

/// `tsc --noEmit --strict` on `file` in `dir`.
fn tsc(dir: &Path, file: &str) -> Output {
    ensure_installed();
    let tsc = interop_dir().join("node_modules/typescript/bin/tsc");
    Command::new("node")
        .arg(tsc)
        .args([
            "--noEmit", "--strict", "--pretty", "false", "--target", "es2020",
        ])
        .args([
            "--lib",
            "es2020",
            "--module",
            "es2020",
            "--moduleResolution",
            "bundler",
        ])
        .arg(file)
        .current_dir(dir)
        .output()
        .expect("run tsc")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[test]
fn code_written_against_the_generated_chat_types_type_checks() {
    let dir = project("ok");
    let output = tsc(&dir, "chat-ok.ts");
    assert!(output.status.success(), "tsc failed:\n{}", text(&output));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_wrong_route_name_and_a_wrong_field_do_not_type_check() {
    let dir = project("wrong");
    let output = tsc(&dir, "chat-wrong.ts");
    let printed = text(&output);
    assert!(!output.status.success(), "tsc accepted it:\n{printed}");
    let errors: Vec<&str> = printed.lines().filter(|l| l.contains("error TS")).collect();
    assert_eq!(errors.len(), 2, "one error per mistake:\n{printed}");
    assert!(
        errors[0].starts_with("chat-wrong.ts(6,") && errors[0].contains("\"room.jion\""),
        "the wrong route is refused:\n{printed}"
    );
    assert!(
        errors[1].starts_with("chat-wrong.ts(7,") && errors[1].contains("'text'"),
        "the wrong field is refused:\n{printed}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_committed_chat_declarations_are_what_the_example_writes() {
    let dir = project("committed");
    let written = std::fs::read_to_string(dir.join("chat.d.ts")).expect("written");
    let committed = workspace_root().join("examples/chat/chat.d.ts");
    let committed = std::fs::read_to_string(committed).expect("examples/chat/chat.d.ts");
    assert!(
        written == committed,
        "examples/chat/chat.d.ts is stale: run `cargo run --example chat -- --typescript \
         examples/chat/chat.d.ts`; the example writes:\n{written}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_js_client_declarations_type_check_with_the_generated_types() {
    ensure_installed();
    let tsc = interop_dir().join("node_modules/typescript/bin/tsc");
    let output = Command::new("node")
        .arg(tsc)
        .args([
            "--noEmit", "--strict", "--pretty", "false", "--target", "es2020",
        ])
        .args(["--lib", "es2020,dom", "--module", "es2020"])
        .args(["--moduleResolution", "bundler", "testing/typed-usage.ts"])
        .current_dir(workspace_root().join("clients/js"))
        .output()
        .expect("run tsc");
    assert!(output.status.success(), "tsc failed:\n{}", text(&output));
}
