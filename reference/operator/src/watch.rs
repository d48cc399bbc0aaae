//! Hot reload: watch the resource folder and reload the control plane on change.

use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::control::ControlPlane;
use crate::error::OperatorError;

/// Editors write files in several steps; changes this close together reload once.
const SETTLE: Duration = Duration::from_millis(50);

/// What the watcher saw change.
enum Changed {
    /// These paths (files, or folders that appeared or went away).
    Paths(Vec<std::path::PathBuf>),
    /// Something the events do not name.
    Unknown,
}

impl Changed {
    fn merge(&mut self, other: Changed) {
        match (self, other) {
            (Changed::Paths(paths), Changed::Paths(more)) => paths.extend(more),
            (this, _) => *this = Changed::Unknown,
        }
    }
}

/// Watches the control plane's folder until dropped.
pub struct FolderWatch {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FolderWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching; every change reloads the control plane, reading again only the files the
/// events name.
pub fn watch_folder(control: Arc<ControlPlane>) -> Result<FolderWatch, OperatorError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Changed>();
    let dir = control
        .resources_dir()
        .ok_or_else(|| OperatorError::Watch {
            path: "(cluster)".to_string(),
            message: "this control plane reads an API server, not a folder".to_string(),
        })?
        .to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let changed = match event {
            Ok(event) if event.kind.is_access() => return,
            // Events the watcher dropped, or a change it cannot name: look at every file.
            Ok(event) if event.need_rescan() || event.paths.is_empty() => Changed::Unknown,
            Ok(event) => Changed::Paths(event.paths),
            Err(_) => Changed::Unknown,
        };
        let _ = tx.send(changed);
    })
    .map_err(|e| OperatorError::Watch {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .map_err(|e| OperatorError::Watch {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
    let task = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            tokio::time::sleep(SETTLE).await;
            let mut changed = first;
            while let Ok(more) = rx.try_recv() {
                changed.merge(more);
            }
            let reloaded = match changed {
                Changed::Paths(paths) => control.reload_changed(paths).await,
                Changed::Unknown => control.reload().await,
            };
            match reloaded {
                Ok(version) => tracing::debug!(version, "reloaded after a change in the resource folder"),
                Err(error) => tracing::warn!("reload failed: {error}"),
            }
        }
    });
    Ok(FolderWatch {
        _watcher: watcher,
        task,
    })
}
