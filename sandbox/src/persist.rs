//! JSON state files in the sandbox's state directory, written atomically
//! (temporary file in the same directory, fsync, rename).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Reads `dir/name`; `None` when the file does not exist.
pub fn load<T: DeserializeOwned>(dir: &Path, name: &str) -> anyhow::Result<Option<T>> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("parsing {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes `value` to `dir/name`, replacing the old file atomically.
pub fn save<T: Serialize>(dir: &Path, name: &str, value: &T) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(value)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("writing {}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn save_then_load() {
        let dir = std::env::temp_dir().join(format!("webide-persist-{}", uuid::Uuid::new_v4()));
        assert_eq!(super::load::<Vec<u32>>(&dir, "x.json").unwrap(), None);
        super::save(&dir, "x.json", &vec![1u32, 2]).unwrap();
        super::save(&dir, "x.json", &vec![3u32]).unwrap();
        assert_eq!(
            super::load::<Vec<u32>>(&dir, "x.json").unwrap(),
            Some(vec![3])
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary files left"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
