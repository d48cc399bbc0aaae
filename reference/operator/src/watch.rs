//! Hot reload: watch the resource folder and reload the control plane on change.

use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::control::ControlPlane;
use crate::error::OperatorError;

/// Editors write files in several steps; changes this close together reload once.
const SETTLE: Duration = Duration::from_millis(50);

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

/// Starts watching; every change reloads the control plane.
pub fn watch_folder(control: Arc<ControlPlane>) -> Result<FolderWatch, OperatorError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let dir = control
        .resources_dir()
        .ok_or_else(|| OperatorError::Watch {
            path: "(cluster)".to_string(),
            message: "this control plane reads an API server, not a folder".to_string(),
        })?
        .to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            let _ = tx.send(());
        }
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
        while rx.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            match control.reload().await {
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
