//! WAL checkpoints, off the commit path.
//!
//! With SQLite's default (`wal_autocheckpoint=1000`), the commit that pushes the WAL past
//! 1000 pages runs the checkpoint itself: it copies the WAL into the database file and, with
//! `synchronous=NORMAL`, fsyncs both, while every request waiting on that commit waits too.
//! That showed as the direct scenario's p99 (one slow commit every couple of hundred
//! messages). So both writer connections run with `wal_autocheckpoint=0`, and this task
//! checkpoints from its own connection, in `PASSIVE` mode: it copies what no reader still
//! needs, takes no lock a writer waits for, and the writer goes on appending meanwhile.
//! SQLite restarts the WAL from the beginning at the first write after a complete
//! checkpoint, so the file stays bounded by what one interval writes.
//!
//! The writer signals each commit; the task waits for a signal, lets `INTERVAL` pass so that
//! one checkpoint covers every commit in it, and checkpoints. An idle server never wakes it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

const INTERVAL: Duration = Duration::from_millis(500);

/// Owns the checkpoint task; dropping it ends the task after one last checkpoint.
pub(crate) struct Checkpointer {
    commits: Arc<Notify>,
    _stop: oneshot::Sender<()>,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let commits = Arc::new(Notify::new());
        let committed = commits.clone();
        tokio::spawn(async move {
            let mut conn = Some(conn);
            loop {
                // A commit during the wait or the checkpoint leaves a permit in the `Notify`,
                // so it gets the next round.
                let mut last = tokio::select! {
                    _ = committed.notified() => false,
                    _ = &mut stopped => true,
                };
                if !last {
                    last = tokio::select! {
                        _ = tokio::time::sleep(INTERVAL) => false,
                        _ = &mut stopped => true,
                    };
                }
                let Some(c) = conn.take() else { return };
                // The checkpoint does file I/O and fsyncs: never on an async worker.
                match tokio::task::spawn_blocking(move || {
                    let result = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    (c, result)
                })
                .await
                {
                    Ok((c, result)) => {
                        if let Err(error) = result {
                            tracing::warn!(%error, "WAL checkpoint failed; retrying after the next commit");
                        }
                        conn = Some(c);
                    }
                    Err(error) => {
                        tracing::error!(%error, "the WAL checkpointer stopped");
                        return;
                    }
                }
                if last {
                    return;
                }
            }
        });
        Ok(Checkpointer { commits, _stop: stop })
    }

    /// What the writer signals after each commit.
    pub(crate) fn commits(&self) -> Arc<Notify> {
        self.commits.clone()
    }
}
