//! The shipped binary never carries the WhatsApp crate's "danger" features
//! (skipping the server certificate check, skipping TLS verification):
//! only the offline test server enables them, as a dev-dependency.

use std::process::Command;

/// `cargo tree` of what `cargo build --release` links into `blazz`, with
/// the features each package is built with.
fn release_tree() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--package",
            "blazz",
            "--edges",
            "normal,build,features",
            "--prefix",
            "none",
            "--format",
            "{p} {f}",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cargo tree cannot run: {e}"));
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_release_build_has_no_danger_features() {
    let tree = release_tree();
    assert!(
        tree.contains("whatsapp-rust v0.7.0"),
        "the tree must include the WhatsApp crate for this check to mean anything:\n{tree}"
    );
    let danger: Vec<&str> = tree.lines().filter(|l| l.contains("danger")).collect();
    assert!(
        danger.is_empty(),
        "danger features in the release build: {danger:#?}"
    );
    assert!(
        !tree.contains("blazz-wa-fake"),
        "the offline WhatsApp server must not be in the release build"
    );
}
