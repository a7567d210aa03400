//! A TCP proxy whose open connections can go silent at once (tests/e2e_offline.rs).

use std::sync::atomic::{AtomicUsize, Ordering};

/// A TCP proxy in front of the API whose open connections can all go silent at once: kept
/// open, nothing forwarded either way, as when a phone's network dies under a live WebSocket
/// (no FIN, no RST). Connections made afterwards work normally.
pub struct FreezableProxy {
    pub port: u16,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    connections: std::sync::Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FreezableProxy {
    pub async fn start(target_port: u16) -> FreezableProxy {
        use std::sync::Arc;
        use std::sync::atomic::AtomicU64;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("the proxy's port").port();
        let generation = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (gen_, count) = (Arc::clone(&generation), Arc::clone(&connections));
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let born = gen_.load(Ordering::SeqCst);
                let gen_ = Arc::clone(&gen_);
                tokio::spawn(async move {
                    let Ok(outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target_port)).await
                    else {
                        return;
                    };
                    let (in_read, in_write) = inbound.into_split();
                    let (out_read, out_write) = outbound.into_split();
                    let alive = move || gen_.load(Ordering::SeqCst) == born;
                    tokio::join!(
                        pipe(in_read, out_write, alive.clone()),
                        pipe(out_read, in_write, alive)
                    );
                });
            }
        });
        FreezableProxy {
            port,
            generation,
            connections,
            task,
        }
    }

    /// Every connection open now goes silent for good.
    pub fn freeze_open_connections(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FreezableProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies one direction while `alive()`; once it is not, holds both ends open and forwards
/// nothing more.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    alive: impl Fn() -> bool,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) if alive() => return,
            Ok(n) => n,
            Err(_) => 0,
        };
        if !alive() {
            // A dead network: what arrives is lost, and neither side hears a close.
            let _held = (from, to);
            std::future::pending::<()>().await;
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
