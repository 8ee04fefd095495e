//! The store contract suite: one set of checks that every [`Store`] backend must pass.
//!
//! Each backend's tests call [`run_all`] on a fresh, empty store. The checks panic with a
//! message naming the broken rule, like any test assertion.

use crate::{
    ActivityRecord, AliasRecord, AliasRoute, Commit, Error, ExecutionFilter, ExecutionOutcome,
    ExecutionRecord, ExecutionStatus, HistoryQuery, HistoryRecord, InboxRecord, MachineType,
    Millis, PageRequest, StateMachineRecord, Store, Tag, TaskRecord, TaskState, TaskUpdate,
    VersionRecord,
};

const PREFIX: &str = "arn:aws:states:us-east-1:000000000000";

/// Runs every check against an empty store.
pub async fn run_all(store: &dyn Store) {
    state_machines(store).await;
    versions_and_aliases(store).await;
    definitions_and_tags(store).await;
    activities(store).await;
    execution_commits(store).await;
    fencing(store).await;
    timers(store).await;
    tasks(store).await;
    terminal_outcome(store).await;
    list_executions(store).await;
    redrive(store).await;
}

/// A state machine record for tests.
pub fn machine(name: &str, created_ms: Millis) -> StateMachineRecord {
    StateMachineRecord {
        arn: format!("{PREFIX}:stateMachine:{name}"),
        name: name.to_owned(),
        kind: MachineType::Standard,
        definition: r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#.to_owned(),
        role_arn: "arn:aws:iam::000000000000:role/r".to_owned(),
        created_ms,
        revision_id: "rev-1".to_owned(),
        description: String::new(),
        attributes: "{}".to_owned(),
        next_version: 1,
    }
}

/// An execution record for tests (running, `seq` 0).
pub fn execution(machine_name: &str, name: &str, start_ms: Millis) -> ExecutionRecord {
    ExecutionRecord {
        arn: format!("{PREFIX}:execution:{machine_name}:{name}"),
        state_machine_arn: format!("{PREFIX}:stateMachine:{machine_name}"),
        version_arn: None,
        alias_arn: None,
        name: name.to_owned(),
        kind: MachineType::Standard,
        definition_id: "def".to_owned(),
        role_arn: "arn:aws:iam::000000000000:role/r".to_owned(),
        input: r#"{"n":1}"#.to_owned(),
        status: ExecutionStatus::Running,
        start_ms,
        stop_ms: None,
        output: None,
        error: None,
        cause: None,
        redrive_count: 0,
        redrive_ms: None,
        seq: 0,
    }
}

/// A commit with only an inbox entry.
pub fn step(execution_arn: &str, seq: u64) -> Commit {
    Commit {
        execution_arn: execution_arn.to_owned(),
        start: None,
        inbox: InboxRecord {
            seq,
            now_ms: 1000 + seq as Millis,
            entropy: [seq as u8; 32],
            event: format!(r#"{{"type":"Test","seq":{seq}}}"#),
        },
        history: Vec::new(),
        outcome: None,
        timers_set: Vec::new(),
        timers_delete: Vec::new(),
        tasks_insert: Vec::new(),
        tasks_update: Vec::new(),
    }
}

/// A start commit for `record`.
pub fn start(record: &ExecutionRecord) -> Commit {
    let mut commit = step(&record.arn, 0);
    commit.start = Some(record.clone());
    commit.history.push(event(1, 0, "ExecutionStarted"));
    commit
}

fn event(id: u64, previous: u64, ty: &str) -> HistoryRecord {
    HistoryRecord {
        id,
        previous_event_id: previous,
        timestamp_ms: 1000 + id as Millis,
        event_type: ty.to_owned(),
        details: format!(r#"{{"n":{id}}}"#),
    }
}

fn task(execution_arn: &str, task_id: u64, token: &str, activity: Option<&str>) -> TaskRecord {
    TaskRecord {
        token: token.to_owned(),
        execution_arn: execution_arn.to_owned(),
        task_id,
        state_name: "Work".to_owned(),
        resource: activity
            .unwrap_or("arn:aws:states:::sqs:sendMessage.waitForTaskToken")
            .to_owned(),
        activity_arn: activity.map(str::to_owned),
        input: r#"{"x":1}"#.to_owned(),
        state: TaskState::Scheduled,
        worker_name: None,
        created_ms: 5,
    }
}

async fn state_machines(store: &dyn Store) {
    for (i, name) in ["sm-c", "sm-a", "sm-b", "sm-e", "sm-d"].iter().enumerate() {
        store
            .create_state_machine(machine(name, 100 + i as Millis))
            .await
            .unwrap();
    }
    let dup = store.create_state_machine(machine("sm-a", 1)).await;
    assert!(
        matches!(dup, Err(Error::AlreadyExists(_))),
        "duplicate state machine: {dup:?}"
    );

    let mut changed = machine("sm-a", 101);
    changed.definition = "{}".to_owned();
    changed.revision_id = "rev-2".to_owned();
    changed.next_version = 3;
    store.update_state_machine(changed.clone()).await.unwrap();
    let read = store.get_state_machine(&changed.arn).await.unwrap();
    assert_eq!(read, Some(changed), "update then get");
    let missing = store.update_state_machine(machine("nope", 1)).await;
    assert!(
        matches!(missing, Err(Error::NotFound(_))),
        "update of a missing machine: {missing:?}"
    );
    assert_eq!(store.get_state_machine("nope").await.unwrap(), None);

    // Pages of 2 walk every machine once, oldest first.
    let mut names = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let result = store.list_state_machines(page.clone()).await.unwrap();
        assert!(result.items.len() <= 2, "page larger than its limit");
        names.extend(result.items.into_iter().map(|m| m.name));
        match result.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        names,
        ["sm-c", "sm-a", "sm-b", "sm-e", "sm-d"],
        "list order and completeness"
    );

    assert!(
        store
            .delete_state_machine(&machine("sm-e", 0).arn)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_state_machine(&machine("sm-e", 0).arn)
            .await
            .unwrap()
    );
    let left = store
        .list_state_machines(PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(left.items.len(), 4);
    assert_eq!(left.next, None);
}

async fn versions_and_aliases(store: &dyn Store) {
    let sm = machine("versioned", 1);
    store.create_state_machine(sm.clone()).await.unwrap();
    for version in 1..=3u64 {
        let record = VersionRecord {
            arn: format!("{}:{version}", sm.arn),
            state_machine_arn: sm.arn.clone(),
            version,
            definition: sm.definition.clone(),
            role_arn: sm.role_arn.clone(),
            revision_id: format!("rev-{version}"),
            description: format!("v{version}"),
            attributes: "{}".to_owned(),
            created_ms: 10 + version as Millis,
        };
        store.create_version(record).await.unwrap();
    }
    let dup = store
        .get_version(&format!("{}:2", sm.arn))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        store.create_version(dup.clone()).await,
        Err(Error::AlreadyExists(_))
    ));
    assert_eq!(dup.description, "v2");
    let first = store
        .list_versions(&sm.arn, PageRequest::first(2))
        .await
        .unwrap();
    let numbers: Vec<u64> = first.items.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [3, 2], "versions newest first");
    let rest = store
        .list_versions(
            &sm.arn,
            PageRequest {
                after: first.next.clone(),
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(rest.next, None);
    assert!(
        store
            .delete_version(&format!("{}:3", sm.arn))
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_version(&format!("{}:3", sm.arn))
            .await
            .unwrap()
    );

    let alias = AliasRecord {
        arn: format!("{}:prod", sm.arn),
        state_machine_arn: sm.arn.clone(),
        name: "prod".to_owned(),
        description: String::new(),
        routes: vec![
            AliasRoute {
                version_arn: format!("{}:1", sm.arn),
                weight: 80,
            },
            AliasRoute {
                version_arn: format!("{}:2", sm.arn),
                weight: 20,
            },
        ],
        created_ms: 20,
        updated_ms: 20,
    };
    store.put_alias(alias.clone()).await.unwrap();
    let mut updated = alias.clone();
    updated.routes.truncate(1);
    updated.routes[0].weight = 100;
    updated.updated_ms = 30;
    store.put_alias(updated.clone()).await.unwrap();
    assert_eq!(
        store.get_alias(&alias.arn).await.unwrap(),
        Some(updated.clone())
    );
    let mut beta = updated.clone();
    beta.arn = format!("{}:beta", sm.arn);
    beta.name = "beta".to_owned();
    store.put_alias(beta).await.unwrap();
    let aliases = store
        .list_aliases(&sm.arn, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        aliases
            .items
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["beta", "prod"]
    );

    // Deleting the machine takes its versions, aliases and tags along.
    store
        .tag_resource(
            &sm.arn,
            vec![Tag {
                key: "k".into(),
                value: "v".into(),
            }],
        )
        .await
        .unwrap();
    assert!(store.delete_state_machine(&sm.arn).await.unwrap());
    assert_eq!(
        store.get_version(&format!("{}:1", sm.arn)).await.unwrap(),
        None
    );
    assert_eq!(store.get_alias(&alias.arn).await.unwrap(), None);
    assert!(store.list_tags(&sm.arn).await.unwrap().is_empty());
    assert!(!store.delete_alias(&alias.arn).await.unwrap());
}

async fn definitions_and_tags(store: &dyn Store) {
    store.put_definition("d1", "text one").await.unwrap();
    store.put_definition("d1", "text one").await.unwrap();
    assert_eq!(
        store.get_definition("d1").await.unwrap().as_deref(),
        Some("text one")
    );
    assert_eq!(store.get_definition("d2").await.unwrap(), None);

    let arn = format!("{PREFIX}:activity:tagged");
    let tag = |k: &str, v: &str| Tag {
        key: k.to_owned(),
        value: v.to_owned(),
    };
    store
        .tag_resource(&arn, vec![tag("b", "1"), tag("a", "2")])
        .await
        .unwrap();
    store.tag_resource(&arn, vec![tag("b", "3")]).await.unwrap();
    assert_eq!(
        store.list_tags(&arn).await.unwrap(),
        [tag("a", "2"), tag("b", "3")]
    );
    store
        .untag_resource(&arn, vec!["a".into(), "zzz".into()])
        .await
        .unwrap();
    assert_eq!(store.list_tags(&arn).await.unwrap(), [tag("b", "3")]);
}

async fn activities(store: &dyn Store) {
    for i in 0..3 {
        let record = ActivityRecord {
            arn: format!("{PREFIX}:activity:act-{i}"),
            name: format!("act-{i}"),
            created_ms: 50 - i,
        };
        store.create_activity(record).await.unwrap();
    }
    let one = store
        .get_activity(&format!("{PREFIX}:activity:act-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.created_ms, 49);
    assert!(matches!(
        store.create_activity(one.clone()).await,
        Err(Error::AlreadyExists(_))
    ));
    let first = store.list_activities(PageRequest::first(2)).await.unwrap();
    let rest = store
        .list_activities(PageRequest {
            after: first.next.clone(),
            limit: 2,
        })
        .await
        .unwrap();
    let names: Vec<String> = first
        .items
        .into_iter()
        .chain(rest.items)
        .map(|a| a.name)
        .collect();
    assert_eq!(
        names,
        ["act-2", "act-1", "act-0"],
        "activities oldest first"
    );
    assert!(store.delete_activity(&one.arn).await.unwrap());
    assert!(!store.delete_activity(&one.arn).await.unwrap());
    assert_eq!(store.get_activity(&one.arn).await.unwrap(), None);
}

async fn execution_commits(store: &dyn Store) {
    let record = execution("flow", "e1", 500);
    store.commit(start(&record)).await.unwrap();
    let again = store.commit(start(&record)).await;
    assert!(
        matches!(again, Err(Error::AlreadyExists(_))),
        "second start: {again:?}"
    );

    let read = store.get_execution(&record.arn).await.unwrap().unwrap();
    assert_eq!(read.seq, 1, "seq after the start commit");
    assert_eq!(ExecutionRecord { seq: 0, ..read }, record);

    let mut second = step(&record.arn, 1);
    second.history = (2..=6)
        .map(|id| event(id, id - 1, "PassStateEntered"))
        .collect();
    second.outcome = Some(ExecutionOutcome {
        status: ExecutionStatus::Succeeded,
        stop_ms: Some(900),
        output: Some(r#"{"done":true}"#.to_owned()),
        error: None,
        cause: None,
    });
    store.commit(second).await.unwrap();
    let done = store.get_execution(&record.arn).await.unwrap().unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.stop_ms, Some(900));
    assert_eq!(done.output.as_deref(), Some(r#"{"done":true}"#));
    assert_eq!(done.seq, 2);

    let inbox = store.get_inbox(&record.arn).await.unwrap();
    assert_eq!(inbox.len(), 2);
    assert_eq!(
        inbox[1],
        step(&record.arn, 1).inbox,
        "inbox round trip (time, entropy, event)"
    );

    let ids = |events: Vec<HistoryRecord>| events.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let all = store
        .get_history(
            &record.arn,
            HistoryQuery {
                after_id: None,
                reverse: false,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        all[0],
        event(1, 0, "ExecutionStarted"),
        "history round trip"
    );
    assert_eq!(ids(all), [1, 2, 3, 4, 5, 6]);
    let page = store
        .get_history(
            &record.arn,
            HistoryQuery {
                after_id: Some(2),
                reverse: false,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(page), [3, 4]);
    let back = store
        .get_history(
            &record.arn,
            HistoryQuery {
                after_id: None,
                reverse: true,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(back), [6, 5]);
    let back = store
        .get_history(
            &record.arn,
            HistoryQuery {
                after_id: Some(5),
                reverse: true,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(back), [4, 3, 2, 1]);
    let none = store
        .get_history(
            "missing",
            HistoryQuery {
                after_id: None,
                reverse: false,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert!(none.is_empty());

    let missing = store.commit(step("missing", 0)).await;
    assert!(
        matches!(missing, Err(Error::NotFound(_))),
        "commit on a missing execution: {missing:?}"
    );
}

async fn fencing(store: &dyn Store) {
    let record = execution("flow", "fenced", 600);
    store.commit(start(&record)).await.unwrap();
    // A stale writer (built on seq 0) and a writer from the future are both refused, and
    // neither writes anything.
    for seq in [0, 5] {
        let mut stale = step(&record.arn, seq);
        stale.history.push(event(2, 1, "Stale"));
        stale.timers_set.push((1, 10));
        let result = store.commit(stale).await;
        assert!(
            matches!(result, Err(Error::Conflict { expected, actual: 1, .. }) if expected == seq),
            "commit on seq {seq}: {result:?}"
        );
    }
    // A history id that already exists refuses the whole commit.
    let mut duplicate = step(&record.arn, 1);
    duplicate.history.push(event(1, 0, "Duplicate"));
    duplicate.timers_set.push((1, 10));
    assert!(
        store.commit(duplicate).await.is_err(),
        "duplicate history id accepted"
    );
    let history = store
        .get_history(
            &record.arn,
            HistoryQuery {
                after_id: None,
                reverse: false,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "a refused commit wrote history");
    assert_eq!(
        store.get_execution(&record.arn).await.unwrap().unwrap().seq,
        1
    );
    assert_eq!(store.get_inbox(&record.arn).await.unwrap().len(), 1);
    assert!(
        store.timers_between(0, 100, 10).await.unwrap().is_empty(),
        "a refused commit wrote timers"
    );
    store.commit(step(&record.arn, 1)).await.unwrap();
}

async fn timers(store: &dyn Store) {
    let a = execution("timed", "a", 1);
    let b = execution("timed", "b", 2);
    store.commit(start(&a)).await.unwrap();
    store.commit(start(&b)).await.unwrap();
    let mut commit = step(&a.arn, 1);
    commit.timers_set = vec![(1, 3000), (2, 1000), (3, 2000)];
    store.commit(commit).await.unwrap();
    let mut commit = step(&b.arn, 1);
    commit.timers_set = vec![(1, 1500), (2, 2000)];
    store.commit(commit).await.unwrap();

    let all = store.timers_between(0, 10_000, 100).await.unwrap();
    let keys: Vec<(Millis, &str, u64)> = all
        .iter()
        .map(|t| {
            (
                t.due_ms,
                &t.execution_arn[t.execution_arn.len() - 1..],
                t.timer_id,
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (1000, "a", 2),
            (1500, "b", 1),
            (2000, "a", 3),
            (2000, "b", 2),
            (3000, "a", 1)
        ]
    );
    let window = store.timers_between(1000, 2000, 100).await.unwrap();
    assert_eq!(window.len(), 3, "after is exclusive, until inclusive");
    assert_eq!(
        store.timers_between(0, 10_000, 2).await.unwrap().len(),
        2,
        "limit"
    );

    // Move one, delete one (and a missing one).
    let mut commit = step(&a.arn, 2);
    commit.timers_set = vec![(1, 500)];
    commit.timers_delete = vec![2, 99];
    store.commit(commit).await.unwrap();
    let all = store.timers_between(0, 10_000, 100).await.unwrap();
    let a_timers: Vec<(u64, Millis)> = all
        .iter()
        .filter(|t| t.execution_arn == a.arn)
        .map(|t| (t.timer_id, t.due_ms))
        .collect();
    assert_eq!(a_timers, [(1, 500), (3, 2000)]);
    // Clean up so later checks see no timers of these executions.
    for (record, seq) in [(&a, 3), (&b, 2)] {
        let mut end = step(&record.arn, seq);
        end.outcome = Some(ExecutionOutcome {
            status: ExecutionStatus::Failed,
            stop_ms: Some(9),
            output: None,
            error: Some("E".into()),
            cause: Some("C".into()),
        });
        store.commit(end).await.unwrap();
    }
    assert!(
        store
            .timers_between(0, 10_000, 100)
            .await
            .unwrap()
            .is_empty(),
        "terminal outcome keeps timers"
    );
    let failed = store.get_execution(&a.arn).await.unwrap().unwrap();
    assert_eq!(
        (failed.error.as_deref(), failed.cause.as_deref()),
        (Some("E"), Some("C"))
    );
}

async fn tasks(store: &dyn Store) {
    let activity = format!("{PREFIX}:activity:queue");
    let other = format!("{PREFIX}:activity:other");
    let a = execution("tasks", "a", 1);
    let b = execution("tasks", "b", 2);
    store.commit(start(&a)).await.unwrap();
    store.commit(start(&b)).await.unwrap();

    let mut commit = step(&a.arn, 1);
    commit.tasks_insert = vec![
        task(&a.arn, 1, "tok-a1", Some(&activity)),
        task(&a.arn, 2, "tok-a2", None),
        task(&a.arn, 3, "tok-a3", Some(&other)),
    ];
    store.commit(commit).await.unwrap();
    let mut commit = step(&b.arn, 1);
    commit.tasks_insert = vec![
        task(&b.arn, 1, "tok-b1", Some(&activity)),
        task(&b.arn, 2, "tok-b2", None),
    ];
    store.commit(commit).await.unwrap();

    let mut clash = step(&b.arn, 2);
    clash.tasks_insert = vec![task(&b.arn, 7, "tok-a1", None)];
    assert!(
        matches!(store.commit(clash).await, Err(Error::AlreadyExists(_))),
        "duplicate token accepted"
    );
    let mut clash = step(&b.arn, 2);
    clash.tasks_insert = vec![task(&b.arn, 1, "tok-new", None)];
    assert!(
        matches!(store.commit(clash).await, Err(Error::AlreadyExists(_))),
        "duplicate task id accepted"
    );

    assert_eq!(
        store.get_task("tok-a2").await.unwrap(),
        Some(task(&a.arn, 2, "tok-a2", None))
    );
    assert_eq!(store.get_task("tok-zz").await.unwrap(), None);
    let tokens = |tasks: Vec<TaskRecord>| tasks.into_iter().map(|t| t.token).collect::<Vec<_>>();
    assert_eq!(
        tokens(store.activity_queue(&activity, 10).await.unwrap()),
        ["tok-a1", "tok-b1"],
        "FIFO queue"
    );
    assert_eq!(
        tokens(store.activity_queue(&activity, 1).await.unwrap()),
        ["tok-a1"]
    );
    let first = store
        .tasks_to_dispatch(PageRequest::first(1))
        .await
        .unwrap();
    let rest = store
        .tasks_to_dispatch(PageRequest {
            after: first.next.clone(),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        tokens(first.items.into_iter().chain(rest.items).collect()),
        ["tok-a2", "tok-b2"]
    );

    // A worker picks up a1; b2 is submitted.
    let mut commit = step(&a.arn, 2);
    commit.tasks_update = vec![
        TaskUpdate {
            task_id: 1,
            state: TaskState::Started,
            worker_name: Some("w1".into()),
        },
        TaskUpdate {
            task_id: 42,
            state: TaskState::Closed,
            worker_name: None,
        },
    ];
    store.commit(commit).await.unwrap();
    let mut commit = step(&b.arn, 2);
    commit.tasks_update = vec![TaskUpdate {
        task_id: 2,
        state: TaskState::Started,
        worker_name: None,
    }];
    store.commit(commit).await.unwrap();
    let a1 = store.get_task("tok-a1").await.unwrap().unwrap();
    assert_eq!(
        (a1.state, a1.worker_name.as_deref()),
        (TaskState::Started, Some("w1"))
    );
    assert_eq!(
        tokens(store.activity_queue(&activity, 10).await.unwrap()),
        ["tok-b1"]
    );
    assert_eq!(
        tokens(
            store
                .tasks_to_dispatch(PageRequest::first(10))
                .await
                .unwrap()
                .items
        ),
        ["tok-a2"]
    );
    // Updating without a worker name keeps the recorded one.
    let mut commit = step(&a.arn, 3);
    commit.tasks_update = vec![TaskUpdate {
        task_id: 1,
        state: TaskState::Closed,
        worker_name: None,
    }];
    store.commit(commit).await.unwrap();
    let a1 = store.get_task("tok-a1").await.unwrap().unwrap();
    assert_eq!(
        (a1.state, a1.worker_name.as_deref()),
        (TaskState::Closed, Some("w1"))
    );
}

async fn terminal_outcome(store: &dyn Store) {
    let activity = format!("{PREFIX}:activity:terminal");
    let record = execution("term", "x", 1);
    store.commit(start(&record)).await.unwrap();
    let mut commit = step(&record.arn, 1);
    commit.tasks_insert = vec![
        task(&record.arn, 1, "tok-t1", Some(&activity)),
        task(&record.arn, 2, "tok-t2", None),
    ];
    commit.timers_set = vec![(1, 77)];
    store.commit(commit).await.unwrap();
    let mut end = step(&record.arn, 2);
    end.outcome = Some(ExecutionOutcome {
        status: ExecutionStatus::Aborted,
        stop_ms: Some(100),
        output: None,
        error: None,
        cause: None,
    });
    store.commit(end).await.unwrap();
    for token in ["tok-t1", "tok-t2"] {
        let task = store.get_task(token).await.unwrap().unwrap();
        assert_eq!(
            task.state,
            TaskState::Closed,
            "terminal outcome leaves {token} open"
        );
    }
    assert!(
        store
            .activity_queue(&activity, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .timers_between(0, 1000, 10)
            .await
            .unwrap()
            .iter()
            .all(|t| t.execution_arn != record.arn)
    );
}

/// A redrive reopens a closed execution: an `ExecutionRedriven` event counts it and an outcome
/// sets the status back to running, clearing stop date, error and cause.
async fn redrive(store: &dyn Store) {
    let record = execution("redrive", "x", 1);
    store.commit(start(&record)).await.unwrap();
    let mut end = step(&record.arn, 1);
    end.history.push(event(2, 1, "ExecutionFailed"));
    end.outcome = Some(ExecutionOutcome {
        status: ExecutionStatus::Failed,
        stop_ms: Some(50),
        output: None,
        error: Some("E".into()),
        cause: Some("C".into()),
    });
    store.commit(end).await.unwrap();
    let closed = store.get_execution(&record.arn).await.unwrap().unwrap();
    assert_eq!((closed.redrive_count, closed.redrive_ms), (0, None));
    for (round, seq, id) in [(1, 2, 3), (2, 4, 6)] {
        let mut again = step(&record.arn, seq);
        again.history.push(event(id, id - 1, "ExecutionRedriven"));
        again.history.push(event(id + 1, id, "PassStateEntered"));
        again.outcome = Some(ExecutionOutcome {
            status: ExecutionStatus::Running,
            stop_ms: None,
            output: None,
            error: None,
            cause: None,
        });
        store.commit(again).await.unwrap();
        let open = store.get_execution(&record.arn).await.unwrap().unwrap();
        assert_eq!(open.status, ExecutionStatus::Running);
        assert_eq!((open.stop_ms, open.error, open.cause), (None, None, None));
        assert_eq!(
            open.redrive_count, round,
            "redrive_count after redrive {round}"
        );
        assert_eq!(open.redrive_ms, Some(1000 + id as Millis));
        if round == 1 {
            let mut fail = step(&record.arn, seq + 1);
            fail.history.push(event(id + 2, id + 1, "ExecutionFailed"));
            fail.outcome = Some(ExecutionOutcome {
                status: ExecutionStatus::Failed,
                stop_ms: Some(60),
                output: None,
                error: Some("E".into()),
                cause: None,
            });
            store.commit(fail).await.unwrap();
        }
    }
}

async fn list_executions(store: &dyn Store) {
    let mut expected = Vec::new();
    for i in 0..7 {
        // Two pairs share a start time so that the tie-break on ARN is exercised.
        let record = execution("listed", &format!("run-{i}"), 1000 + (i / 2) as Millis);
        store.commit(start(&record)).await.unwrap();
        if i % 3 == 0 {
            let mut end = step(&record.arn, 1);
            end.outcome = Some(ExecutionOutcome {
                status: ExecutionStatus::Succeeded,
                stop_ms: Some(2000),
                output: Some("{}".into()),
                error: None,
                cause: None,
            });
            store.commit(end).await.unwrap();
        }
        expected.push(record.name);
    }
    expected.reverse();
    let filter = ExecutionFilter {
        state_machine_arn: Some(format!("{PREFIX}:stateMachine:listed")),
        ..ExecutionFilter::default()
    };
    let mut names = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let result = store
            .list_executions(filter.clone(), page.clone())
            .await
            .unwrap();
        names.extend(result.items.into_iter().map(|e| e.name));
        match result.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(names, expected, "newest first, ties by ARN descending");

    let succeeded = ExecutionFilter {
        status: Some(ExecutionStatus::Succeeded),
        ..filter.clone()
    };
    let result = store
        .list_executions(succeeded, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(
        result
            .items
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["run-6", "run-3", "run-0"]
    );

    let versioned = {
        let mut record = execution("listed", "through-alias", 5000);
        record.version_arn = Some(format!("{PREFIX}:stateMachine:listed:1"));
        record.alias_arn = Some(format!("{PREFIX}:stateMachine:listed:prod"));
        record
    };
    store.commit(start(&versioned)).await.unwrap();
    for qualified in ["listed:1", "listed:prod"] {
        let by = ExecutionFilter {
            qualified_arn: Some(format!("{PREFIX}:stateMachine:{qualified}")),
            ..ExecutionFilter::default()
        };
        let result = store
            .list_executions(by, PageRequest::first(100))
            .await
            .unwrap();
        assert_eq!(
            result.items,
            [versioned.clone()].map(|r| ExecutionRecord { seq: 1, ..r }),
            "filter by {qualified}"
        );
    }
    let all = store
        .list_executions(ExecutionFilter::default(), PageRequest::first(1000))
        .await
        .unwrap();
    assert!(all.items.len() >= 8 && all.next.is_none());
}
