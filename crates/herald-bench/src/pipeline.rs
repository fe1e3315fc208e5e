//! A blocking producer feeding an async consumer through a short bounded channel, the way
//! herald's streamer reads a crowd on a blocking thread while it publishes.

use tokio::sync::mpsc;

/// Items waiting between the two halves.
const DEPTH: usize = 2;

/// Runs `produce` on a blocking thread, handing each item to `consume` as it comes; ends when
/// both are done. A consumer error ends the run (the producer stops at its next send).
pub async fn run<T, P, C>(produce: P, mut consume: C) -> anyhow::Result<()>
where
    T: Send + 'static,
    P: FnOnce(&mpsc::Sender<T>) -> anyhow::Result<()> + Send + 'static,
    C: AsyncFnMut(T) -> anyhow::Result<()>,
{
    let (tx, mut rx) = mpsc::channel(DEPTH);
    let producing = tokio::task::spawn_blocking(move || produce(&tx));
    while let Some(item) = rx.recv().await {
        consume(item).await?;
    }
    producing.await?
}

/// Sends from the blocking half; an error once the consumer has gone.
pub fn send<T>(tx: &mpsc::Sender<T>, item: T) -> anyhow::Result<()> {
    tx.blocking_send(item).map_err(|_| anyhow::anyhow!("the consumer stopped"))
}
