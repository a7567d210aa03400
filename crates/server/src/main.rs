//! `colloque-server`: see `colloque-server --help`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    colloque_server::cli::run().await
}
