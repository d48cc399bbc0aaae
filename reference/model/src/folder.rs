//! A folder of resource files, parsed once and re-parsed only where files changed.
//!
//! Parsing is most of what a reload of a large folder costs (about 1 s for 10,000 route files),
//! while an edit usually touches one file. The cache keeps each file's parsed documents and
//! reads again only files whose stamp (modification time, length, inode) differs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;

use crate::load::{LoadError, LoadReport, is_resource_file, parse_documents};

/// What identifies a file's content without reading it. Writers that replace a file by
/// renaming (as the Deployer does) change the inode even within one clock tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl FileStamp {
    fn of(metadata: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(metadata);
        #[cfg(not(unix))]
        let inode = 0;
        FileStamp {
            modified: metadata.modified().ok(),
            len: metadata.len(),
            inode,
        }
    }
}

#[derive(Debug)]
struct CachedFile {
    stamp: FileStamp,
    report: LoadReport,
}

/// How a refresh went: files parsed again, files reused, files gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshStats {
    /// Files read and parsed (new or changed).
    pub parsed: usize,
    /// Files whose earlier parse was kept.
    pub reused: usize,
    /// Files that disappeared since the last refresh.
    pub removed: usize,
}

/// The parsed resource files below one folder.
#[derive(Debug)]
pub struct FolderCache {
    dir: PathBuf,
    /// By path, so iteration is in sorted path order whatever the file system lists.
    files: BTreeMap<PathBuf, CachedFile>,
    /// Errors from walking the folder itself (unreadable directories, files that vanished).
    walk: LoadReport,
}

impl FolderCache {
    /// An empty cache over `dir`; nothing is read until [`FolderCache::refresh`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FolderCache {
            dir: dir.into(),
            files: BTreeMap::new(),
            walk: LoadReport::default(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Brings the cache up to date with the folder: new and changed files are parsed (in
    /// parallel), removed ones dropped, the rest kept.
    pub fn refresh(&mut self) -> RefreshStats {
        let mut walk = LoadReport::default();
        let mut found = Vec::new();
        collect_files(&self.dir, &mut found, &mut walk);
        let mut stats = RefreshStats::default();

        let mut present = BTreeMap::new();
        for path in found {
            match std::fs::metadata(&path) {
                Ok(metadata) => {
                    present.insert(path, FileStamp::of(&metadata));
                }
                // Deleted between listing and now: it is simply gone.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => walk.errors.push(LoadError::Io {
                    path,
                    message: error.to_string(),
                }),
            }
        }
        let before = self.files.len();
        self.files.retain(|path, _| present.contains_key(path));
        stats.removed = before - self.files.len();

        let stale: Vec<(PathBuf, FileStamp)> = present
            .into_iter()
            .filter(|(path, stamp)| match self.files.get(path) {
                Some(cached) if cached.stamp == *stamp => {
                    stats.reused += 1;
                    false
                }
                _ => true,
            })
            .collect();
        stats.parsed = stale.len();
        let dir = &self.dir;
        let parsed: Vec<(PathBuf, CachedFile)> = stale
            .into_par_iter()
            .map(|(path, stamp)| {
                let report = read_file(dir, &path);
                (path, CachedFile { stamp, report })
            })
            .collect();
        self.files.extend(parsed);
        self.walk = walk;
        stats
    }

    /// Every file's report in path order, then the folder's own errors.
    pub fn reports(&self) -> impl Iterator<Item = &LoadReport> {
        self.files
            .values()
            .map(|file| &file.report)
            .chain(std::iter::once(&self.walk))
    }

    /// All of it as one report (resources in path and document order).
    pub fn to_report(&self) -> LoadReport {
        let mut report = LoadReport::default();
        for part in self.reports() {
            report.resources.extend(part.resources.iter().cloned());
            report.skipped.extend(part.skipped.iter().cloned());
            report.errors.extend(part.errors.iter().cloned());
        }
        report
    }
}

fn read_file(dir: &Path, path: &Path) -> LoadReport {
    let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_documents(&name, &text),
        Err(error) => LoadReport {
            errors: vec![LoadError::Io {
                path: path.to_path_buf(),
                message: error.to_string(),
            }],
            ..LoadReport::default()
        },
    }
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>, report: &mut LoadReport) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            report.errors.push(LoadError::Io {
                path: dir.to_path_buf(),
                message: error.to_string(),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if path.is_dir() && !hidden {
            collect_files(&path, files, report);
        } else if is_resource_file(&path) {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: NAME\n  namespace: default\nspec: {}\n";

    fn names(cache: &FolderCache) -> Vec<String> {
        cache
            .to_report()
            .resources
            .iter()
            .filter_map(|(_, r)| r.meta().name.clone())
            .collect()
    }

    #[test]
    fn only_changed_files_are_parsed_again() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a.yaml"), ROUTE.replace("NAME", "a"))?;
        std::fs::write(dir.path().join("b.yaml"), ROUTE.replace("NAME", "b"))?;
        let mut cache = FolderCache::new(dir.path());
        assert_eq!(
            cache.refresh(),
            RefreshStats {
                parsed: 2,
                reused: 0,
                removed: 0
            }
        );
        assert_eq!(names(&cache), ["a", "b"]);

        // Replaced by rename, as the Deployer writes: a new inode even within one clock tick.
        let staged = dir.path().join(".b.tmp");
        std::fs::write(&staged, ROUTE.replace("NAME", "b2"))?;
        std::fs::rename(&staged, dir.path().join("b.yaml"))?;
        std::fs::write(dir.path().join("c.yaml"), ROUTE.replace("NAME", "c"))?;
        assert_eq!(
            cache.refresh(),
            RefreshStats {
                parsed: 2,
                reused: 1,
                removed: 0
            }
        );
        assert_eq!(names(&cache), ["a", "b2", "c"]);

        std::fs::remove_file(dir.path().join("a.yaml"))?;
        assert_eq!(
            cache.refresh(),
            RefreshStats {
                parsed: 0,
                reused: 2,
                removed: 1
            }
        );
        assert_eq!(names(&cache), ["b2", "c"]);
        Ok(())
    }

    #[test]
    fn a_file_that_grows_in_place_is_read_again() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, ROUTE.replace("NAME", "a"))?;
        let mut cache = FolderCache::new(dir.path());
        cache.refresh();
        // Same inode; the length differs even if the clock did not tick.
        std::fs::write(&path, ROUTE.replace("NAME", "longer-name"))?;
        assert_eq!(cache.refresh().parsed, 1);
        assert_eq!(names(&cache), ["longer-name"]);
        Ok(())
    }

    #[test]
    fn a_missing_folder_is_an_error_not_a_panic() {
        let mut cache = FolderCache::new("/nonexistent/portcullis-folder");
        cache.refresh();
        let report = cache.to_report();
        assert!(report.resources.is_empty());
        assert!(matches!(report.errors.as_slice(), [LoadError::Io { .. }]));
    }
}
