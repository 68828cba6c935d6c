//! Names the commit `mafs --version` was built from: `MAFS_GIT_COMMIT` is the short hash of
//! HEAD (with `-dirty` when tracked files differed from it at build time), or a sentence
//! saying there was no git checkout (a crates.io source, a tarball, no `git` installed).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(hash) if !hash.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            // Rebuild when HEAD moves (a commit, a checkout) in this worktree or the repo.
            for path in ["HEAD", "logs/HEAD", "packed-refs", "refs/heads"] {
                if let Some(p) = git(&["rev-parse", "--git-path", path]) {
                    println!("cargo:rerun-if-changed={p}");
                }
            }
            format!("commit {hash}{}", if dirty { "-dirty" } else { "" })
        }
        _ => "commit unknown: built outside a git checkout".to_string(),
    };
    println!("cargo:rustc-env=MAFS_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=build.rs");
}
