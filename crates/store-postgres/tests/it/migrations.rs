//! Schema versioning: migrations run once (also when nodes start together), data survives
//! reopening, and a schema newer than the code is refused.

use baton_store::{Error, Store, contract};
use baton_store_postgres::{PgStore, SCHEMA_VERSION};

use crate::support::TestDb;

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some(db) = TestDb::new("a_newer_schema_is_refused").await else {
        return;
    };
    let admin = db.admin().await;
    admin
        .execute(
            "UPDATE schema_version SET version = $1",
            &[&(SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    let error = PgStore::connect_with(&db.url, db.options())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Backend(message) if message.contains("newer than this Baton")),
        "{error:?}"
    );
    let health = db.store.health().await;
    assert!(!health.ok, "health with a newer schema: {health:?}");
    assert_eq!(health.schema_version, Some(SCHEMA_VERSION + 1));
}

#[tokio::test]
async fn nodes_starting_together_migrate_once() {
    let Some(db) = TestDb::new("nodes_starting_together_migrate_once").await else {
        return;
    };
    // A fresh schema opened by four nodes at once: the advisory lock serializes them, the
    // first migrates and the others find the schema current.
    let schema = format!("{}_race", db.schema);
    let opens = (0..4).map(|_| {
        let url = db.url.clone();
        let options = crate::support::options_for(&schema);
        tokio::spawn(async move { PgStore::connect_with(&url, options).await })
    });
    let mut stores = Vec::new();
    for open in opens {
        stores.push(open.await.unwrap().expect("concurrent open"));
    }
    let admin = crate::support::admin(&db.url, Some(&schema)).await;
    let versions: Vec<i64> = admin
        .query("SELECT version FROM schema_version", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [SCHEMA_VERSION]);
    // Every node sees the others' writes.
    let record = contract::execution("m", "e", 1);
    stores[0].commit(contract::start(&record)).await.unwrap();
    assert!(
        stores[3]
            .get_execution(&record.arn)
            .await
            .unwrap()
            .is_some()
    );
    drop(stores);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

#[tokio::test]
async fn data_survives_reopening() {
    let Some(db) = TestDb::new("data_survives_reopening").await else {
        return;
    };
    let record = contract::execution("durable", "e1", 10);
    db.store.commit(contract::start(&record)).await.unwrap();
    let mut step = contract::step(&record.arn, 1);
    step.timers_set.push((4, 1234));
    db.store.commit(step).await.unwrap();
    let reopened = db.node().await;
    let read = reopened.get_execution(&record.arn).await.unwrap().unwrap();
    assert_eq!(read.seq, 2);
    assert_eq!(reopened.get_inbox(&record.arn).await.unwrap().len(), 2);
    let timers = reopened.timers_between(0, 2000, 10).await.unwrap();
    assert_eq!((timers[0].timer_id, timers[0].due_ms), (4, 1234));
}

#[tokio::test]
async fn invalid_schema_names_are_refused() {
    let Some(url) = crate::support::url("invalid_schema_names_are_refused") else {
        return;
    };
    for bad in ["", "Upper", "semi;colon", "space here"] {
        let error = PgStore::connect_with(&url, crate::support::options_for(bad))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::Backend(m) if m.contains("invalid schema name")),
            "{bad:?}: {error:?}"
        );
    }
}
