//! Names the git commit the binary is built from (`HUB_GIT_COMMIT`, shown by `hub_build_info`
//! on `/metrics`): the variable as given to the build (a container build without `.git` can
//! pass it), else `git rev-parse`, else `unknown`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=HUB_GIT_COMMIT");
    let commit = std::env::var("HUB_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    // Built again when HEAD moves: to another branch (HEAD) or to a new commit (the ref, loose
    // or packed). Only files that exist: a missing one would rebuild the crate every time.
    let branch = git(&["rev-parse", "--symbolic-full-name", "HEAD"]);
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        branch.and_then(|r| git(&["rev-parse", "--git-path", &r])),
        git(&["rev-parse", "--git-path", "packed-refs"]),
    ]
    .into_iter()
    .flatten()
    .filter(|p| std::path::Path::new(p).exists())
    {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rustc-env=HUB_GIT_COMMIT={commit}");
}
