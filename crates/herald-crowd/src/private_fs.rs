//! Files and directories readable by their owner only: crowd files hold phone numbers and
//! addresses, and herald's data directory its database and sealing key. Directories herald
//! creates are 0700, files 0600; directories that already exist are left as they are, since
//! they may be shared ones a user pointed herald at.

use std::io;
use std::path::Path;

#[cfg(unix)]
const PRIVATE_DIR: u32 = 0o700;
#[cfg(unix)]
const PRIVATE_FILE: u32 = 0o600;

/// Creates `dir` and any missing parents, each created one owner-only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR);
    builder.create(dir)
}

/// Options that create a new file owner-only (with `create` or `create_new`).
pub fn private_file_options() -> tokio::fs::OpenOptions {
    let mut options = tokio::fs::OpenOptions::new();
    #[cfg(unix)]
    options.mode(PRIVATE_FILE);
    options
}

/// Makes an existing file owner-only (a database created by an older herald); a missing file
/// is created empty and owner-only, so what is later opened there keeps that mode.
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_FILE))?;
        }
    }
    Ok(())
}

/// Like [`ensure_private_file`], for a file that may not exist (a database's `-wal`): tightened
/// if present, left absent otherwise.
pub fn tighten_if_present(path: &Path) -> io::Result<()> {
    if path.exists() { ensure_private_file(path) } else { Ok(()) }
}
