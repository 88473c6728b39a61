//! A folder or a zip archive, read the same way: files by path relative to a root.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use cb_agent_runtime::bounded::Inflated;
use cb_protocol::limits::MAX_FOLDER_ENTRIES;
use flate2::read::GzDecoder;

use super::error::DataError;

/// Where the files of a dataset are.
pub enum Source {
    Dir(PathBuf),
    Zip {
        path: PathBuf,
        archive: Box<zip::ZipArchive<BufReader<File>>>,
        /// Folder inside the archive that is the dataset's root (`""` or `"IOT_2022_ixi/"`).
        prefix: String,
    },
}

impl Source {
    /// Opens a folder, or a `.zip` file.
    pub fn open(path: &Path) -> Result<Source, DataError> {
        let meta = std::fs::metadata(path).map_err(|e| DataError::io(&path.display().to_string(), e))?;
        if meta.is_dir() {
            let root =
                std::fs::canonicalize(path).map_err(|e| DataError::io(&path.display().to_string(), e))?;
            return Ok(Source::Dir(root));
        }
        let file = File::open(path).map_err(|e| DataError::io(&path.display().to_string(), e))?;
        let archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| DataError::Format {
            path: path.display().to_string(),
            reason: format!("not a folder and not a readable zip archive ({e})"),
        })?;
        if archive.len() > MAX_FOLDER_ENTRIES {
            return Err(DataError::Format {
                path: path.display().to_string(),
                reason: format!(
                    "the zip holds {} entries, more than {MAX_FOLDER_ENTRIES}",
                    archive.len()
                ),
            });
        }
        Ok(Source::Zip {
            path: path.to_path_buf(),
            archive: Box::new(archive),
            prefix: String::new(),
        })
    }

    /// Describes the source for messages.
    pub fn display(&self) -> String {
        match self {
            Source::Dir(p) => p.display().to_string(),
            Source::Zip { path, prefix, .. } if prefix.is_empty() => path.display().to_string(),
            Source::Zip { path, prefix, .. } => format!("{}!{}", path.display(), prefix),
        }
    }

    fn full_name(&self, rel: &str) -> String {
        match self {
            Source::Dir(p) => p.join(rel).display().to_string(),
            Source::Zip { prefix, .. } => format!("{prefix}{rel}"),
        }
    }

    /// True when the file exists.
    pub fn exists(&mut self, rel: &str) -> bool {
        match self {
            Source::Dir(p) => p.join(rel).is_file(),
            Source::Zip { archive, prefix, .. } => {
                archive.index_for_name(&format!("{prefix}{rel}")).is_some()
            }
        }
    }

    /// All file paths (relative to the root) in the source. A folder's walk never follows a
    /// symlink and is bounded in depth and entries; one that exceeds the bounds lists nothing.
    pub fn files(&self) -> Vec<String> {
        match self {
            Source::Dir(root) => {
                let files = cb_agent_runtime::bounded::files_below(root).unwrap_or_default();
                files
                    .iter()
                    .filter_map(|p| p.strip_prefix(root).ok())
                    .map(|rel| rel.to_string_lossy().replace('\\', "/"))
                    .collect()
            }
            Source::Zip { archive, prefix, .. } => {
                let mut out: Vec<String> = archive
                    .file_names()
                    .filter_map(|n| n.ok())
                    .filter_map(|n| n.strip_prefix(prefix.as_str()).map(str::to_string))
                    .filter(|n| !n.is_empty() && !n.ends_with('/'))
                    .collect();
                out.sort();
                out
            }
        }
    }

    /// Makes a sub-folder of the archive the root (EXIOBASE zips hold one top folder).
    pub fn descend(&mut self, folder: &str) {
        match self {
            Source::Dir(p) => *p = p.join(folder),
            Source::Zip { prefix, .. } => {
                prefix.push_str(folder.trim_end_matches('/'));
                prefix.push('/');
            }
        }
    }

    /// Reads a file with `f`, decompressing `.gz` on the fly; `f` gets the file's display name.
    pub fn with_file<T>(
        &mut self,
        rel: &str,
        f: impl FnOnce(&mut dyn BufRead, &str) -> Result<T, DataError>,
    ) -> Result<T, DataError> {
        let name = self.full_name(rel);
        let gz = rel.ends_with(".gz");
        match self {
            Source::Dir(p) => {
                // A symlink inside the dataset may not lead out of it.
                let path = p.join(rel);
                if let Ok(target) = std::fs::canonicalize(&path)
                    && !target.starts_with(&*p)
                {
                    return Err(DataError::Format {
                        path: name,
                        reason: "is a link to a file outside the dataset's folder".into(),
                    });
                }
                let file = File::open(path).map_err(|e| DataError::io(&name, e))?;
                if gz {
                    f(&mut BufReader::new(Inflated::new(GzDecoder::new(file))), &name)
                } else {
                    f(&mut BufReader::with_capacity(1 << 20, file), &name)
                }
            }
            Source::Zip { archive, path, .. } => {
                let entry = archive.by_name(&name).map_err(|e| match e {
                    zip::result::ZipError::FileNotFound => DataError::Missing {
                        dataset: path.display().to_string(),
                        file: name.clone(),
                    },
                    other => DataError::Format {
                        path: format!("{}!{name}", path.display()),
                        reason: format!("cannot read this entry of the zip: {other}"),
                    },
                })?;
                let reader: Box<dyn Read> = if gz {
                    Box::new(Inflated::new(GzDecoder::new(Inflated::new(entry))))
                } else {
                    Box::new(Inflated::new(entry))
                };
                f(&mut BufReader::with_capacity(1 << 20, reader), &name)
            }
        }
    }

    /// Reads a whole (small) file as text.
    pub fn read_string(&mut self, rel: &str) -> Result<String, DataError> {
        self.with_file(rel, |r, name| {
            let mut s = String::new();
            r.read_to_string(&mut s).map_err(|e| DataError::io(name, e))?;
            Ok(s)
        })
    }
}
