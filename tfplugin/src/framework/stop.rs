//! The signal Terraform sends with StopProvider (Ctrl-C): in-flight work
//! stops waiting and retrying and returns what it has.

use tokio::sync::watch;

/// Cloneable view of the stop signal.
#[derive(Clone, Debug)]
pub struct StopToken(watch::Receiver<bool>);

/// The side that raises the signal.
#[derive(Debug)]
pub struct StopSource(watch::Sender<bool>);

impl StopSource {
    pub fn new() -> StopSource {
        StopSource(watch::channel(false).0)
    }
    pub fn token(&self) -> StopToken {
        StopToken(self.0.subscribe())
    }
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Default for StopSource {
    fn default() -> Self {
        StopSource::new()
    }
}

impl StopToken {
    /// A token that never fires (tests, tools).
    pub fn never() -> StopToken {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        StopToken(rx)
    }
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
    /// Resolves once stop was requested.
    pub async fn stopped(&self) {
        let mut rx = self.0.clone();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_wakes_waiters() {
        let src = StopSource::new();
        let t = src.token();
        assert!(!t.is_stopped());
        let w = tokio::spawn({
            let t = t.clone();
            async move { t.stopped().await }
        });
        src.stop();
        tokio::time::timeout(std::time::Duration::from_secs(1), w)
            .await
            .unwrap()
            .unwrap();
        assert!(t.is_stopped());
    }
}
