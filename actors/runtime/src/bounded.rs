//! Reading a caller's files within bounds: folder walks that never follow a symlink and stop at
//! a depth and a count, and decompression that stops at a size. The limits are the protocol's
//! ([`cb_protocol::limits`]); the agents' loaders read folders, zips and gzip through these.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use cb_protocol::limits::{MAX_FOLDER_DEPTH, MAX_FOLDER_ENTRIES, MAX_INFLATED_BYTES};

/// Every regular file below `dir`, in name order. Symlinks are not followed (a link, to a file
/// or a folder, is skipped), so a walk never leaves `dir` and never loops; a folder deeper than
/// [`MAX_FOLDER_DEPTH`] or more than [`MAX_FOLDER_ENTRIES`] entries is an error naming `dir`.
pub fn files_below(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .max_depth(MAX_FOLDER_DEPTH + 1)
        .sort_by_file_name();
    for (n, entry) in walk.into_iter().enumerate() {
        if n >= MAX_FOLDER_ENTRIES {
            return Err(io::Error::other(format!(
                "{} holds more than {MAX_FOLDER_ENTRIES} files and folders",
                dir.display()
            )));
        }
        let entry = entry.map_err(io::Error::from)?;
        if entry.depth() > MAX_FOLDER_DEPTH {
            return Err(io::Error::other(format!(
                "{} nests folders more than {MAX_FOLDER_DEPTH} deep",
                dir.display()
            )));
        }
        if entry.file_type().is_file() {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}

/// A decompressing reader that fails, instead of filling memory or disk, once more than its
/// budget has come out of it (a zip or gzip "bomb").
pub struct Inflated<R> {
    inner: R,
    left: u64,
    budget: u64,
}

impl<R: Read> Inflated<R> {
    /// At most [`MAX_INFLATED_BYTES`].
    pub fn new(inner: R) -> Self {
        Self::with_budget(inner, MAX_INFLATED_BYTES)
    }

    /// At most `budget` bytes.
    pub fn with_budget(inner: R, budget: u64) -> Self {
        Inflated {
            inner,
            left: budget,
            budget,
        }
    }

    /// Bytes read so far.
    pub fn inflated(&self) -> u64 {
        self.budget - self.left
    }
}

impl<R: Read> Read for Inflated<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for one byte more than the budget allows, so a file of exactly the budget passes
        // and one byte more fails.
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(io::Error::other(format!(
                "decompresses to more than {} bytes, the limit for one file",
                self.budget
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Datasets an agent keeps loaded (factorised) at once; the least recently used goes first.
pub const MAX_CACHED_DATASETS: usize = 4;

/// What a cached dataset is keyed by: its canonical path and the identity of what is there now
/// (device, inode, size, modification time), so a file replaced in place is read again and two
/// spellings of one path share an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKey {
    path: PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: (u64, u64),
}

impl FileKey {
    pub fn of(path: &Path) -> io::Result<FileKey> {
        let path = std::fs::canonicalize(path)?;
        let meta = std::fs::metadata(&path)?;
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let inode = (0, 0);
        Ok(FileKey {
            path,
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        })
    }
}

/// A few loaded datasets by [`FileKey`], at most [`MAX_CACHED_DATASETS`].
pub struct DatasetCache<V> {
    entries: Vec<(FileKey, V)>,
}

impl<V> Default for DatasetCache<V> {
    fn default() -> Self {
        DatasetCache { entries: Vec::new() }
    }
}

impl<V: Clone> DatasetCache<V> {
    /// The dataset, marked as just used.
    pub fn get(&mut self, key: &FileKey) -> Option<V> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        let entry = self.entries.remove(i);
        let v = entry.1.clone();
        self.entries.push(entry);
        Some(v)
    }

    /// Keeps `value`, dropping the least recently used entry when full (and any older entry
    /// for the same path).
    pub fn insert(&mut self, key: FileKey, value: V) {
        self.entries.retain(|(k, _)| k.path != key.path);
        if self.entries.len() >= MAX_CACHED_DATASETS {
            self.entries.remove(0);
        }
        self.entries.push((key, value));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_past_its_budget_fails_and_one_within_it_does_not() {
        let mut ok = Vec::new();
        Inflated::with_budget(&[7u8; 100][..], 100)
            .read_to_end(&mut ok)
            .unwrap();
        assert_eq!(ok.len(), 100);
        let e = Inflated::with_budget(&[7u8; 101][..], 100)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(e.to_string().contains("more than 100 bytes"), "{e}");
    }

    #[test]
    fn the_cache_keeps_a_few_datasets_and_sees_a_file_replaced() {
        let dir = std::env::temp_dir().join(format!("cb-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cache = DatasetCache::default();
        let mut keys = Vec::new();
        for i in 0..MAX_CACHED_DATASETS + 1 {
            let p = dir.join(format!("f{i}"));
            std::fs::write(&p, "x").unwrap();
            let k = FileKey::of(&p).unwrap();
            cache.insert(k.clone(), i);
            keys.push(k);
        }
        assert_eq!(cache.len(), MAX_CACHED_DATASETS);
        assert_eq!(cache.get(&keys[0]), None, "the oldest went first");
        assert_eq!(cache.get(&keys[1]), Some(1));
        let again = FileKey::of(&dir.join(".").join("f1")).unwrap();
        assert_eq!(cache.get(&again), Some(1), "another spelling of the same path");
        std::fs::write(dir.join("f1"), "longer now").unwrap();
        assert_eq!(
            cache.get(&FileKey::of(&dir.join("f1")).unwrap()),
            None,
            "replaced in place"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_deep_folder_is_refused() {
        let root = std::env::temp_dir().join(format!("cb-deep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut d = root.clone();
        for i in 0..MAX_FOLDER_DEPTH + 2 {
            d = d.join(format!("d{i}"));
        }
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(root.join("top.txt"), "x").unwrap();
        let e = files_below(&root).unwrap_err();
        assert!(e.to_string().contains("more than 12 deep"), "{e}");
        let shallow = root.join("d0");
        std::fs::remove_dir_all(&shallow).unwrap();
        assert_eq!(files_below(&root).unwrap(), vec![root.join("top.txt")]);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
