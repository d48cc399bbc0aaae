//! A folder of resource files, kept as one [`Snapshot`] that is updated file by file.
//!
//! Parsing is most of what a reload of a large folder costs (about 1 s for 10,000 route files),
//! while an edit usually touches one file. The cache remembers, per file, its stamp
//! (modification time, length, inode) and which objects it defines; the objects themselves
//! live once, in the snapshot. A changed file takes its objects out and puts the new ones in,
//! so neither parsing nor the snapshot is redone for the files that did not change.
//!
//! When two files define the same object, the first in path order wins, as when the whole
//! folder is read at once; the losing definition waits in its file's entry and takes over if
//! the winner goes away.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;

use crate::key::ObjectRef;
use crate::load::{LoadError, LoadReport, is_resource_file, parse_documents};
use crate::resource::{Resource, Skipped};
use crate::snapshot::Snapshot;

/// Files parsed at once: enough to keep every core busy, few enough that the parsed
/// documents waiting to move into the snapshot stay small.
const PARSE_BATCH: usize = 256;

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

/// One resource document of a file.
#[derive(Debug)]
struct Document {
    /// File and document, e.g. `routes.yaml#2`.
    source: String,
    object: ObjectRef,
    /// The definition, while an earlier one of the same object is in the snapshot.
    shadowed: Option<Box<Resource>>,
}

#[derive(Debug)]
struct CachedFile {
    stamp: FileStamp,
    documents: Vec<Document>,
    skipped: Vec<Skipped>,
    errors: Vec<LoadError>,
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

/// The resources of every file below one folder, as one snapshot.
#[derive(Debug)]
pub struct FolderCache {
    dir: PathBuf,
    /// By path, so "first definition wins" follows sorted path order whatever the file system
    /// lists.
    files: BTreeMap<PathBuf, CachedFile>,
    /// Errors from walking the folder itself (unreadable directories, files that vanished).
    walk: Vec<LoadError>,
    snapshot: Snapshot,
    /// The file whose definition of each object is in the snapshot.
    owners: HashMap<ObjectRef, PathBuf>,
    /// Definitions waiting behind an earlier one (so most refreshes need not look for them).
    shadowed: usize,
    /// Objects added with [`FolderCache::add_extras`], taken out again on the next refresh.
    extras: Vec<ObjectRef>,
}

impl FolderCache {
    /// An empty cache over `dir`; nothing is read until [`FolderCache::refresh`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FolderCache {
            dir: dir.into(),
            files: BTreeMap::new(),
            walk: Vec::new(),
            snapshot: Snapshot::default(),
            owners: HashMap::new(),
            shadowed: 0,
            extras: Vec::new(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every resource of the folder (plus any extras added since the last refresh).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Brings the cache up to date with the folder: every file is listed and stamped; new and
    /// changed files are parsed (in parallel), removed ones dropped, the rest kept.
    pub fn refresh(&mut self) -> RefreshStats {
        self.clear_extras();
        let (found, mut walk) = list_files(&self.dir);
        let stamped: Vec<(PathBuf, std::io::Result<std::fs::Metadata>)> = found
            .into_par_iter()
            .map(|path| {
                let metadata = std::fs::metadata(&path);
                (path, metadata)
            })
            .collect();
        let mut present = BTreeMap::new();
        for (path, metadata) in stamped {
            match metadata {
                Ok(metadata) => {
                    present.insert(path, FileStamp::of(&metadata));
                }
                // Deleted between listing and now: it is simply gone.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => walk.push(LoadError::Io {
                    path,
                    message: error.to_string(),
                }),
            }
        }
        let mut stats = RefreshStats::default();
        let gone: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|path| !present.contains_key(*path))
            .cloned()
            .collect();
        stats.removed = gone.len();
        for path in &gone {
            self.remove_file(path);
        }
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
        self.parse_and_add(stale);
        self.walk = walk;
        stats
    }

    /// As [`FolderCache::refresh`], when the caller knows which paths may have changed (a
    /// file watcher's events): only those are looked at. Anything it cannot settle from the
    /// paths alone (a directory appeared or went away) falls back to a full refresh.
    pub fn refresh_paths<P: AsRef<Path>>(&mut self, changed: &[P]) -> RefreshStats {
        self.clear_extras();
        let mut stats = RefreshStats::default();
        let mut stale = BTreeMap::new();
        for path in changed {
            let path = path.as_ref();
            let Ok(relative) = path.strip_prefix(&self.dir) else {
                continue;
            };
            if relative.components().any(|c| is_hidden(c.as_os_str())) {
                continue;
            }
            match std::fs::metadata(path) {
                Ok(metadata) if metadata.is_dir() => return self.refresh(),
                Ok(metadata) => {
                    if !is_resource_file(path) {
                        continue;
                    }
                    let stamp = FileStamp::of(&metadata);
                    if self.files.get(path).is_some_and(|cached| cached.stamp == stamp) {
                        continue;
                    }
                    stale.insert(path.to_path_buf(), stamp);
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    if self.files.contains_key(path) {
                        self.remove_file(path);
                        stats.removed += 1;
                    } else if self.files.keys().any(|file| file.starts_with(path)) {
                        // A directory went away with its files.
                        return self.refresh();
                    }
                }
                Err(_) => return self.refresh(),
            }
        }
        stats.parsed = stale.len();
        self.parse_and_add(stale.into_iter().collect());
        stats.reused = self.files.len() - stats.parsed;
        stats
    }

    /// Adds objects that are not in the folder (defaults, stand-ins) until the next refresh
    /// or [`FolderCache::clear_extras`]. The folder's own definitions win: an extra naming an
    /// object the folder defines is not added, and its identity is returned.
    pub fn add_extras(&mut self, source: &str, extras: impl IntoIterator<Item = Resource>) -> Vec<ObjectRef> {
        let mut refused = Vec::new();
        for resource in extras {
            let object = resource.object_ref();
            match self.snapshot.insert(source, resource) {
                Ok(()) => self.extras.push(object),
                Err(_) => refused.push(object),
            }
        }
        refused
    }

    /// Takes the extras out again.
    pub fn clear_extras(&mut self) {
        for object in std::mem::take(&mut self.extras) {
            self.snapshot.remove(&object);
        }
    }

    /// Documents of kinds the gateway does not serve, in path order.
    pub fn skipped(&self) -> impl Iterator<Item = &Skipped> {
        self.files.values().flat_map(|file| &file.skipped)
    }

    /// Every error: each file's parse errors in path order, the folder's own, then every
    /// definition ignored because an earlier one exists.
    pub fn errors(&self) -> Vec<LoadError> {
        let mut errors: Vec<LoadError> = self
            .files
            .values()
            .flat_map(|file| file.errors.iter().cloned())
            .chain(self.walk.iter().cloned())
            .collect();
        if self.shadowed > 0 {
            for document in self.files.values().flat_map(|file| &file.documents) {
                if document.shadowed.is_some() {
                    errors.push(LoadError::Duplicate {
                        source_name: document.source.clone(),
                        object: document.object.to_string(),
                        first: self
                            .snapshot
                            .sources
                            .get(&document.object)
                            .cloned()
                            .unwrap_or_default(),
                    });
                }
            }
        }
        errors
    }

    /// Reads and parses files in batches, moving each batch's resources into the snapshot.
    fn parse_and_add(&mut self, stale: Vec<(PathBuf, FileStamp)>) {
        for batch in stale.chunks(PARSE_BATCH) {
            let dir = &self.dir;
            let parsed: Vec<LoadReport> = batch.par_iter().map(|(path, _)| read_file(dir, path)).collect();
            for ((path, stamp), report) in batch.iter().zip(parsed) {
                if self.files.contains_key(path) {
                    self.remove_file(path);
                }
                self.add_file(path.clone(), *stamp, report);
            }
        }
    }

    /// Takes a file's objects out of the snapshot, letting waiting definitions take over.
    fn remove_file(&mut self, path: &Path) {
        let Some(file) = self.files.remove(path) else {
            return;
        };
        let mut vacated = Vec::new();
        for document in file.documents {
            if document.shadowed.is_some() {
                self.shadowed -= 1;
            } else if self
                .owners
                .get(&document.object)
                .is_some_and(|owner| owner == path)
            {
                self.owners.remove(&document.object);
                self.snapshot.remove(&document.object);
                vacated.push(document.object);
            }
        }
        if self.shadowed > 0 {
            for object in vacated {
                self.promote(&object);
            }
        }
    }

    /// Moves the first waiting definition of `object` (in path and document order) into the
    /// snapshot.
    fn promote(&mut self, object: &ObjectRef) {
        let waiting = self.files.iter_mut().find_map(|(path, file)| {
            file.documents
                .iter_mut()
                .find(|d| d.shadowed.is_some() && &d.object == object)
                .and_then(|d| Some((path.clone(), d.source.clone(), d.shadowed.take()?)))
        });
        if let Some((path, source, resource)) = waiting {
            self.shadowed -= 1;
            // The object was just vacated, so the insert cannot meet a duplicate.
            let _ = self.snapshot.insert(&source, *resource);
            self.owners.insert(object.clone(), path);
        }
    }

    /// Puts a parsed file's objects into the snapshot: each wins over a definition in a later
    /// file and waits behind one in an earlier file (or earlier in the same file).
    fn add_file(&mut self, path: PathBuf, stamp: FileStamp, report: LoadReport) {
        let mut documents = Vec::with_capacity(report.resources.len());
        for (source, resource) in report.resources {
            let object = resource.object_ref();
            let shadowed = match self.owners.get(&object) {
                Some(owner) if *owner <= path => Some(Box::new(resource)),
                Some(owner) => {
                    let owner = owner.clone();
                    self.demote(&owner, &object);
                    self.insert_owned(&path, &source, &object, resource)
                }
                None => self.insert_owned(&path, &source, &object, resource),
            };
            if shadowed.is_some() {
                self.shadowed += 1;
            }
            documents.push(Document {
                source,
                object,
                shadowed,
            });
        }
        documents.shrink_to_fit();
        self.files.insert(
            path,
            CachedFile {
                stamp,
                documents,
                skipped: report.skipped,
                errors: report.errors,
            },
        );
    }

    /// Inserts a definition owned by `path`; hands it back when the snapshot already has the
    /// object (an extra, which only exists between refreshes).
    fn insert_owned(
        &mut self,
        path: &Path,
        source: &str,
        object: &ObjectRef,
        resource: Resource,
    ) -> Option<Box<Resource>> {
        if self.snapshot.sources.contains_key(object) {
            return Some(Box::new(resource));
        }
        let _ = self.snapshot.insert(source, resource);
        self.owners.insert(object.clone(), path.to_path_buf());
        None
    }

    /// Moves `owner`'s definition of `object` out of the snapshot into its file's entry.
    fn demote(&mut self, owner: &Path, object: &ObjectRef) {
        let Some((_, resource)) = self.snapshot.remove(object) else {
            return;
        };
        self.owners.remove(object);
        if let Some(document) = self.files.get_mut(owner).and_then(|file| {
            file.documents
                .iter_mut()
                .find(|d| d.shadowed.is_none() && &d.object == object)
        }) {
            document.shadowed = Some(Box::new(resource));
            self.shadowed += 1;
        }
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

/// Parses one file; its documents are named by their path below `dir`.
pub(crate) fn read_file(dir: &Path, path: &Path) -> LoadReport {
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

/// The resource files below `dir` (hidden files and folders left out), in sorted path order,
/// and the errors met walking it.
pub(crate) fn list_files(dir: &Path) -> (Vec<PathBuf>, Vec<LoadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    collect_files(dir, &mut files, &mut errors);
    files.sort();
    (files, errors)
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(LoadError::Io {
                path: dir.to_path_buf(),
                message: error.to_string(),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // The entry's own type needs no `stat`; a symbolic link is followed to see what it is.
        let is_dir = match entry.file_type() {
            Ok(kind) if kind.is_symlink() => path.is_dir(),
            Ok(kind) => kind.is_dir(),
            Err(_) => path.is_dir(),
        };
        if is_dir && !is_hidden(entry.file_name().as_os_str()) {
            collect_files(&path, files, errors);
        } else if !is_dir && is_resource_file(&path) {
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
            .snapshot()
            .http_routes
            .keys()
            .map(|k| k.name.clone())
            .collect()
    }

    fn write(dir: &Path, file: &str, name: &str) -> std::io::Result<()> {
        std::fs::write(dir.join(file), ROUTE.replace("NAME", name))
    }

    #[test]
    fn only_changed_files_are_parsed_again() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(dir.path(), "a.yaml", "a")?;
        write(dir.path(), "b.yaml", "b")?;
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
        write(dir.path(), "c.yaml", "c")?;
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
        assert!(cache.snapshot().http_routes.is_empty());
        assert!(matches!(cache.errors().as_slice(), [LoadError::Io { .. }]));
    }

    #[test]
    fn named_paths_are_the_only_ones_looked_at() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(dir.path(), "a.yaml", "a")?;
        write(dir.path(), "b.yaml", "b")?;
        let mut cache = FolderCache::new(dir.path());
        cache.refresh();

        // An editor's way: a hidden temp file, renamed over the original; then a new file and
        // a deleted one. Only the named paths are seen.
        let staged = dir.path().join(".a.yaml.swp");
        std::fs::write(&staged, ROUTE.replace("NAME", "a2"))?;
        std::fs::rename(&staged, dir.path().join("a.yaml"))?;
        write(dir.path(), "c.yaml", "c")?;
        std::fs::remove_file(dir.path().join("b.yaml"))?;
        write(dir.path(), "unnamed.yaml", "unnamed")?;
        let changed = [
            staged,
            dir.path().join("a.yaml"),
            dir.path().join("c.yaml"),
            dir.path().join("b.yaml"),
            dir.path().join("notes.txt"),
        ];
        assert_eq!(
            cache.refresh_paths(&changed),
            RefreshStats {
                parsed: 2,
                reused: 0,
                removed: 1
            }
        );
        assert_eq!(names(&cache), ["a2", "c"]);
        // A full refresh finds what no event named.
        assert_eq!(cache.refresh().parsed, 1);
        assert_eq!(names(&cache), ["a2", "c", "unnamed"]);
        Ok(())
    }

    #[test]
    fn a_new_folder_named_by_an_event_is_read_whole() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut cache = FolderCache::new(dir.path());
        cache.refresh();
        std::fs::create_dir(dir.path().join("sub"))?;
        write(&dir.path().join("sub"), "x.yaml", "x")?;
        assert_eq!(cache.refresh_paths(&[dir.path().join("sub")]).parsed, 1);
        assert_eq!(names(&cache), ["x"]);
        std::fs::remove_dir_all(dir.path().join("sub"))?;
        assert_eq!(cache.refresh_paths(&[dir.path().join("sub")]).removed, 1);
        assert!(names(&cache).is_empty());
        Ok(())
    }

    #[test]
    fn the_first_definition_in_path_order_wins_and_its_rival_takes_over() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let route = |marker: &str| ROUTE.replace("NAME", "same").replace("spec: {}", marker);
        let hostname = |snapshot: &Snapshot| {
            snapshot
                .http_routes
                .values()
                .flat_map(|r| r.spec.hostnames.clone().unwrap_or_default())
                .collect::<Vec<_>>()
        };
        std::fs::write(dir.path().join("b.yaml"), route("spec: {hostnames: [b]}"))?;
        let mut cache = FolderCache::new(dir.path());
        cache.refresh();
        assert_eq!(hostname(cache.snapshot()), ["b"]);

        // An earlier file takes the object over; the later definition is reported.
        std::fs::write(dir.path().join("a.yaml"), route("spec: {hostnames: [a]}"))?;
        cache.refresh();
        assert_eq!(hostname(cache.snapshot()), ["a"]);
        let errors = cache.errors();
        assert!(
            matches!(errors.as_slice(), [LoadError::Duplicate { source_name, first, .. }]
                if source_name == "b.yaml#1" && first == "a.yaml#1"),
            "{errors:?}"
        );

        // The winner goes away: the waiting definition is served again.
        std::fs::remove_file(dir.path().join("a.yaml"))?;
        cache.refresh_paths(&[dir.path().join("a.yaml")]);
        assert_eq!(hostname(cache.snapshot()), ["b"]);
        assert!(cache.errors().is_empty());
        Ok(())
    }

    #[test]
    fn extras_yield_to_the_folder_and_leave_on_refresh() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(dir.path(), "a.yaml", "a")?;
        let mut cache = FolderCache::new(dir.path());
        cache.refresh();
        let extra = |name: &str| {
            let report = parse_documents("extra", &ROUTE.replace("NAME", name));
            report.resources.into_iter().map(|(_, r)| r)
        };
        let refused = cache.add_extras("(extra)", extra("a").chain(extra("e")));
        assert_eq!(refused, [ObjectRef::new("HTTPRoute", "default", "a")]);
        assert_eq!(names(&cache), ["a", "e"]);
        cache.refresh_paths::<PathBuf>(&[]);
        assert_eq!(names(&cache), ["a"]);
        assert!(cache.snapshot().sources.values().all(|s| s == "a.yaml#1"));
        Ok(())
    }
}
