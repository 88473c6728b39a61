//! Where a served agent may read files: the server's data roots. A caller names an MRIO or an
//! inventory database by path; before an agent opens it, the path is resolved (relative paths
//! against each root in turn), canonicalised (symlinks followed) and must then lie under a root.
//! Whether the path is missing, unreadable or outside every root, the caller gets the same
//! answer, so a refusal never tells whether something exists outside the roots.
//!
//! `cbutler ask` and the agents' own commands run for the user at the keyboard and read any path
//! the user names: they have no roots.

use std::path::{Path, PathBuf};

use cb_protocol::{TaskError, TaskErrorKind, TaskSpec};

/// Paths longer than this are refused before the file system sees them.
pub const MAX_PATH_BYTES: usize = 4096;

/// The folders a server's agents may read below (canonical paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRoots {
    roots: Vec<PathBuf>,
}

/// A path a caller may not read. Says the same for a path that is missing and one outside the
/// roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRefused {
    /// The parameter that named it (`mrio`, `database`, …).
    pub field: String,
    /// The path as the caller wrote it, cut to 200 characters.
    pub path: String,
}

impl std::fmt::Display for PathRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {:?} is not a readable file or folder under this server's data roots \
             (an operator adds roots with --data-root)",
            self.field, self.path
        )
    }
}

impl std::error::Error for PathRefused {}

impl From<PathRefused> for TaskError {
    fn from(e: PathRefused) -> Self {
        TaskError::new(TaskErrorKind::InvalidInput, e.to_string())
    }
}

impl DataRoots {
    /// Canonicalises each root. `required` roots (the ones an operator named) must exist;
    /// optional ones (the defaults) are skipped when they do not.
    pub fn new(required: &[PathBuf], optional: &[PathBuf]) -> Result<Self, String> {
        let mut roots = Vec::new();
        for r in required {
            let c = std::fs::canonicalize(r).map_err(|e| format!("--data-root {}: {e}", r.display()))?;
            if !c.is_dir() {
                return Err(format!("--data-root {}: not a folder", r.display()));
            }
            roots.push(c);
        }
        for r in optional {
            if let Ok(c) = std::fs::canonicalize(r)
                && c.is_dir()
            {
                roots.push(c);
            }
        }
        roots.dedup();
        Ok(DataRoots { roots })
    }

    /// The canonical roots, in the order paths are resolved against them.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The canonical path a caller's `path` names, if it lies under a root.
    pub fn resolve(&self, field: &str, path: &str) -> Result<PathBuf, PathRefused> {
        let refused = || PathRefused {
            field: field.to_string(),
            path: path.chars().take(200).collect(),
        };
        if path.is_empty() || path.len() > MAX_PATH_BYTES || path.contains('\0') {
            return Err(refused());
        }
        let given = Path::new(path);
        let candidates: Vec<PathBuf> = if given.is_absolute() {
            vec![given.to_path_buf()]
        } else {
            self.roots.iter().map(|r| r.join(given)).collect()
        };
        for c in candidates {
            if let Ok(canonical) = std::fs::canonicalize(&c)
                && self.roots.iter().any(|r| canonical.starts_with(r))
            {
                return Ok(canonical);
            }
        }
        Err(refused())
    }

    /// Replaces every file a task reads by its canonical path under a root, or refuses the task.
    pub fn confine(&self, spec: &mut TaskSpec) -> Result<(), PathRefused> {
        for (field, path) in spec.files_mut() {
            let canonical = self.resolve(field, path)?;
            *path = canonical.to_string_lossy().into_owned();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile_dir::Dir, DataRoots) {
        let d = tempfile_dir::Dir::new();
        std::fs::create_dir_all(d.0.join("root/mrio")).unwrap();
        std::fs::write(d.0.join("root/mrio/file.txt"), "x").unwrap();
        std::fs::write(d.0.join("secret.txt"), "s").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.0.join("secret.txt"), d.0.join("root/leak")).unwrap();
        let roots = DataRoots::new(&[d.0.join("root")], &[d.0.join("absent")]).unwrap();
        (d, roots)
    }

    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let p = std::env::temp_dir().join(format!(
                    "cb-roots-{}-{:?}",
                    std::process::id(),
                    std::thread::current().id()
                ));
                let _ = std::fs::remove_dir_all(&p);
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn paths_under_a_root_resolve_and_others_are_refused_alike() {
        let (d, roots) = tree();
        assert_eq!(roots.roots().len(), 1, "the missing optional root is skipped");
        let inside = roots.resolve("mrio", "mrio/file.txt").unwrap();
        assert!(inside.ends_with("root/mrio/file.txt"));
        let abs = d.0.join("root/mrio").display().to_string();
        assert!(roots.resolve("mrio", &abs).is_ok());
        let outside = roots.resolve("mrio", &d.0.join("secret.txt").display().to_string());
        let missing = roots.resolve("mrio", &d.0.join("nothing.txt").display().to_string());
        let dotdot = roots.resolve("mrio", "../secret.txt");
        for e in [outside, missing, dotdot] {
            let e = e.unwrap_err().to_string();
            assert!(
                e.contains("is not a readable file or folder under this server's data roots"),
                "{e}"
            );
        }
        #[cfg(unix)]
        assert!(
            roots.resolve("mrio", "leak").is_err(),
            "a symlink leaving the root"
        );
        assert!(roots.resolve("mrio", "/proc").is_err());
        assert!(roots.resolve("mrio", "a\0b").is_err());
        assert!(roots.resolve("mrio", &"a/".repeat(3000)).is_err());
    }

    #[test]
    fn a_named_root_that_does_not_exist_is_an_error() {
        let e = DataRoots::new(&[PathBuf::from("/nonexistent/cb-root")], &[]).unwrap_err();
        assert!(e.contains("--data-root /nonexistent/cb-root"), "{e}");
    }
}
