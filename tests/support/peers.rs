//! Command-line peers (curl, h2load, wrk), found on `PATH`. `.ci/run` installs them; when
//! one is missing a test fails under `CI=true` and skips elsewhere, printing why
//! (docs/design.md: never a silent pass).

use std::path::PathBuf;

/// Whether the tests run in CI (`CI=true`), where every peer must be present.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| ci == "true")
}

/// The path of `cmd` on `PATH`, like `which`.
pub fn which(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(cmd))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}

/// The peer `cmd` (from Debian package `package`), or `None` after printing why the
/// test skips. Panics under `CI=true` when it is missing.
pub fn peer(cmd: &str, package: &str) -> Option<PathBuf> {
    match which(cmd) {
        Some(path) => Some(path),
        None if in_ci() => {
            panic!("peer {cmd} missing under CI=true: run .ci/run (apt-get install {package})")
        }
        None => {
            eprintln!("skipping: {cmd} not installed (apt-get install {package}, or run .ci/run)");
            None
        }
    }
}
