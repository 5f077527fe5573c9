//! Directories as deterministic tar archives and content hashes (Docker build contexts,
//! Coder template directories). Symbolic links are never followed (nothing outside the tree
//! is read); [`warn_symlinks`] names each one left out.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Every regular file under `dir`, sorted, relative.
pub fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    Ok(walk(dir)?.0)
}

/// Every symbolic link under `dir` (left out of archives and hashes), sorted, relative.
pub fn symlinks(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    Ok(walk(dir)?.1)
}

/// A warning on `path` for each symbolic link under `dir`, naming the file.
pub fn warn_symlinks(
    dir: &Path,
    path: &crate::protocol::diagnostics::AttrPath,
    diags: &mut crate::protocol::diagnostics::Diagnostics,
) {
    use crate::protocol::diagnostics::{Diagnostic, Severity};
    for l in symlinks(dir).unwrap_or_default() {
        diags.0.push(Diagnostic {
            severity: Severity::Warning,
            summary: "Symbolic link left out".into(),
            detail: format!(
                "{} is a symbolic link; links are not followed, so it is not sent (copy the file into {} to include it)",
                l.display(),
                dir.display()
            ),
            path: Some(path.clone()),
        });
    }
}

/// (regular files, symbolic links) under `dir`, each sorted and relative.
fn walk(dir: &Path) -> std::io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let mut links = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_symlink() {
                links.push(
                    e.path()
                        .strip_prefix(dir)
                        .unwrap_or(&e.path())
                        .to_path_buf(),
                );
            } else if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push(
                    e.path()
                        .strip_prefix(dir)
                        .unwrap_or(&e.path())
                        .to_path_buf(),
                );
            }
        }
    }
    out.sort();
    links.sort();
    Ok((out, links))
}

/// SHA-256 over the names, modes and contents of the context's files.
pub fn context_hash(dir: &Path) -> std::io::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut h = Sha256::new();
    for f in files(dir)? {
        let p = dir.join(&f);
        h.update(f.to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::metadata(&p)?.permissions().mode().to_be_bytes());
        h.update(std::fs::read(&p)?);
        h.update([0]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The context as a tar archive, written through a temporary file.
pub fn tar_context(dir: &Path) -> std::io::Result<Vec<u8>> {
    let tmp = tempfile::tempfile()?;
    let mut b = tar::Builder::new(tmp);
    b.mode(tar::HeaderMode::Deterministic);
    for f in files(dir)? {
        b.append_path_with_name(dir.join(&f), &f)?;
    }
    let mut file = b.into_inner()?;
    file.flush()?;
    use std::io::{Read, Seek};
    file.rewind()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::diagnostics::{AttrPath, Diagnostics, Severity};

    #[test]
    fn symlinks_are_left_out_and_named() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.txt"), "a").unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.path().join("sub/link")).unwrap();
        assert_eq!(files(d.path()).unwrap(), vec![PathBuf::from("a.txt")]);
        let mut diags = Diagnostics::new();
        warn_symlinks(d.path(), &AttrPath::root("context"), &mut diags);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].severity, Severity::Warning);
        assert!(diags.0[0].detail.contains("sub/link"), "{:?}", diags.0[0]);
    }
}
