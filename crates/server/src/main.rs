//! `colloque-server`: see `colloque-server --help`.

/// mimalloc instead of glibc's malloc: glibc keeps a heap per thread and rarely gives freed
/// memory back, so the memory of sockets closed after a flood stayed resident.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    colloque_server::cli::run().await
}
