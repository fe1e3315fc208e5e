//! Stamps the binary, for `herald --version`, with the commit it was built from (HERALD_COMMIT
//! when set: a container build has no .git; else git's short hash, else "unknown") and the
//! cluster backends compiled in (the `kafka` and `s3` cargo features).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=HERALD_COMMIT");
    let commit = std::env::var("HERALD_COMMIT").ok().filter(|c| !c.is_empty()).or_else(git_commit);
    println!("cargo:rustc-env=HERALD_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
    let built: Vec<&str> = [("kafka", "CARGO_FEATURE_KAFKA"), ("s3", "CARGO_FEATURE_S3")]
        .into_iter()
        .filter(|(_, variable)| std::env::var_os(variable).is_some())
        .map(|(feature, _)| feature)
        .collect();
    let backends = if built.is_empty() { "none".to_string() } else { built.join(", ") };
    println!("cargo:rustc-env=HERALD_CLUSTER_BACKENDS={backends}");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn git_commit() -> Option<String> {
    // HEAD's reflog changes with every commit and checkout, so the stamp follows them.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/logs/HEAD");
    }
    git(&["rev-parse", "--short=12", "HEAD"])
}
