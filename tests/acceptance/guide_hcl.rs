//! The guides' HCL is formatted as `terraform fmt` would write it. The
//! guides show other providers' resources (docs/guides/handing-keys-to-consumers.md)
//! that cannot be applied here, so formatting is what can be checked of
//! them; their attribute names are checked against those providers' docs
//! by hand. `terraform fmt` needs no providers and its formatting is the
//! same on 1.11 and 1.15; it runs on whichever Terraform the suite runs on.

use crate::harness::terraform_binary;
use crate::release::scratch_dir;
use std::path::Path;
use std::process::Command;

/// The bodies of the ```` ```terraform ```` blocks of a Markdown text.
fn terraform_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() == "```terraform" {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push(body.join("\n") + "\n");
        }
    }
    blocks
}

#[track_caller]
fn assert_blocks_formatted(guide: &str, at_least: usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(guide);
    let text = std::fs::read_to_string(&path).expect("read the guide");
    let blocks = terraform_blocks(&text);
    assert!(
        blocks.len() >= at_least,
        "{guide}: expected at least {at_least} terraform blocks, found {}",
        blocks.len()
    );
    let dir = scratch_dir(&format!("fmt-{}", guide.replace(['/', '.'], "-")));
    for (index, block) in blocks.iter().enumerate() {
        std::fs::write(dir.join(format!("block_{index:02}.tf")), block).expect("write a block");
    }
    let output = Command::new(terraform_binary())
        .args(["fmt", "-check", "-diff", "-no-color"])
        .current_dir(&dir)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("run terraform fmt");
    assert!(
        output.status.success(),
        "{guide}: these blocks are not formatted as terraform fmt writes them:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_handoff_guides_hcl_passes_terraform_fmt_check() {
    // The key, Kubernetes, AWS (secret and version share a block), GitHub,
    // Vault.
    assert_blocks_formatted("templates/guides/handing-keys-to-consumers.md", 5);
}

#[test]
fn the_other_guides_hcl_passes_terraform_fmt_check() {
    for guide in [
        "templates/guides/testing-modules-offline.md",
        "templates/guides/rotating-keys.md",
    ] {
        assert_blocks_formatted(guide, 1);
    }
}

#[test]
fn blocks_are_found() {
    let text = "a\n```terraform\nx = 1\n```\nb\n```sh\nls\n```\n```terraform\ny = 2\n```\n";
    assert_eq!(terraform_blocks(text), ["x = 1\n", "y = 2\n"]);
}
