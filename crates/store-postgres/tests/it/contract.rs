//! The shared store contract suite, against PostgreSQL.

use baton_store::contract;
use baton_store_postgres::{Options, PgStore};

use crate::support::{TestDb, options_for};

#[tokio::test]
async fn postgres_store_passes_the_contract() {
    let Some(db) = TestDb::new("postgres_store_passes_the_contract").await else {
        return;
    };
    contract::run_all(&db.store).await;
}

#[tokio::test]
async fn postgres_store_passes_the_contract_with_one_connection_and_no_group_commit() {
    let Some(db) =
        TestDb::new("postgres_store_passes_the_contract_with_one_connection_and_no_group_commit")
            .await
    else {
        return;
    };
    // A second store on a second schema, limited to one pooled connection, committing each
    // step directly (the path group commit falls back to).
    let schema = format!("{}_one", db.schema);
    let store = PgStore::connect_with(
        &db.url,
        Options {
            pool_size: 1,
            writers: 0,
            ..options_for(&schema)
        },
    )
    .await
    .unwrap();
    contract::run_all(&store).await;
    let admin = db.admin().await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}
