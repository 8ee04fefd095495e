//! Integration tests of the store crate: the contract suite against the in-memory store.

#[tokio::test]
async fn memory_store_passes_the_contract() {
    let store = baton_store::MemoryStore::new();
    baton_store::contract::run_all(&store).await;
}
