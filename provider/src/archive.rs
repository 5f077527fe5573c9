//! Directories as deterministic tar archives and content hashes (Docker build contexts,
//! Coder template directories).

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Every regular file under `dir`, sorted, relative.
pub fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_dir() {
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
    Ok(out)
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
