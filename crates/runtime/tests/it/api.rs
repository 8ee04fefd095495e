//! The control-plane API: state machines (idempotent create, update, versions, aliases),
//! activities, tags, listing with pagination tokens.

use baton_runtime::{
    AliasSpec, CreateActivity, CreateStateMachine, Error, ListExecutions, PageArgs, StartExecution,
    UpdateStateMachine,
};
use baton_store::{AliasRoute, ExecutionStatus, MachineType, Tag};

use crate::harness::{Harness, ROLE};

const PASS: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
const WAIT: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}"#;

fn create(name: &str, definition: &str) -> CreateStateMachine {
    CreateStateMachine {
        name: name.to_owned(),
        definition: definition.to_owned(),
        role_arn: ROLE.to_owned(),
        ..CreateStateMachine::default()
    }
}

#[tokio::test]
async fn create_state_machine_rules() {
    let h = Harness::memory().await;
    let first = h
        .runtime
        .create_state_machine(create("m", PASS))
        .await
        .unwrap();
    assert_eq!(
        first.machine.arn,
        "arn:aws:states:us-east-1:000000000000:stateMachine:m"
    );
    assert_eq!(first.machine.kind, MachineType::Standard);
    // Same definition: idempotent, even with another role.
    let mut again = create("m", PASS);
    again.role_arn = "arn:aws:iam::000000000000:role/other".into();
    assert_eq!(
        h.runtime.create_state_machine(again).await.unwrap().machine,
        first.machine
    );
    let table: Vec<(CreateStateMachine, crate::harness::Expect)> = vec![
        (create("m", WAIT), |e| {
            matches!(e, Error::StateMachineAlreadyExists(_))
        }),
        (create("bad name", PASS), |e| {
            matches!(e, Error::InvalidName(_))
        }),
        (create("x", r#"{"StartAt":"Nope","States":{}}"#), |e| {
            matches!(e, Error::InvalidDefinition(_))
        }),
        (create("x", "not json"), |e| {
            matches!(e, Error::InvalidDefinition(_))
        }),
        (
            CreateStateMachine {
                role_arn: "role".into(),
                ..create("x", PASS)
            },
            |e| matches!(e, Error::InvalidArn(_)),
        ),
    ];
    for (request, expected) in table {
        let name = request.name.clone();
        let error = h.runtime.create_state_machine(request).await.unwrap_err();
        assert!(expected(&error), "{name}: {error:?}");
    }
    // Another region from the request.
    let elsewhere = CreateStateMachine {
        region: Some("eu-west-1".into()),
        ..create("m", PASS)
    };
    let made = h.runtime.create_state_machine(elsewhere).await.unwrap();
    assert_eq!(
        made.machine.arn,
        "arn:aws:states:eu-west-1:000000000000:stateMachine:m"
    );
}

#[tokio::test]
async fn update_versions_and_aliases() {
    let h = Harness::memory().await;
    let mut request = create("versioned", PASS);
    request.publish = true;
    request.version_description = "first".into();
    let created = h.runtime.create_state_machine(request).await.unwrap();
    let machine = created.machine.arn.clone();
    assert_eq!(
        created.version_arn.as_deref(),
        Some(format!("{machine}:1").as_str())
    );

    // Publishing without a change returns the latest version.
    let same = h.runtime.publish_version(&machine, None, "").await.unwrap();
    assert_eq!(same.version, 1);
    let stale = h
        .runtime
        .publish_version(&machine, Some("not-the-revision"), "")
        .await;
    assert!(
        matches!(stale, Err(Error::ConflictException(_))),
        "{stale:?}"
    );

    let update = UpdateStateMachine {
        arn: machine.clone(),
        definition: Some(WAIT.into()),
        publish: true,
        ..UpdateStateMachine::default()
    };
    let updated = h.runtime.update_state_machine(update).await.unwrap();
    assert_ne!(updated.machine.revision_id, created.machine.revision_id);
    assert_eq!(
        updated.version_arn.as_deref(),
        Some(format!("{machine}:2").as_str())
    );
    let versions = h
        .runtime
        .list_versions(&machine, PageArgs::default())
        .await
        .unwrap();
    assert_eq!(
        versions.items.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(
        h.runtime
            .describe_version(&format!("{machine}:1"))
            .await
            .unwrap()
            .definition,
        PASS
    );

    // An alias routing everything to version 1 runs the old definition.
    let spec = AliasSpec {
        name: "prod".into(),
        description: String::new(),
        routes: vec![AliasRoute {
            version_arn: format!("{machine}:1"),
            weight: 100,
        }],
    };
    let alias = h.runtime.create_alias(spec).await.unwrap();
    assert_eq!(alias.arn, format!("{machine}:prod"));
    let run = h
        .runtime
        .start_execution(StartExecution {
            state_machine_arn: alias.arn.clone(),
            name: Some("via-alias".into()),
            input: None,
        })
        .await
        .unwrap();
    let done = h.finished(&run.arn).await;
    assert_eq!(
        done.status,
        ExecutionStatus::Succeeded,
        "version 1 is the Pass machine"
    );
    assert_eq!(
        done.version_arn.as_deref(),
        Some(format!("{machine}:1").as_str())
    );
    assert_eq!(done.alias_arn.as_deref(), Some(alias.arn.as_str()));
    let (_, definition) = h
        .runtime
        .describe_state_machine_for_execution(&run.arn)
        .await
        .unwrap();
    assert_eq!(definition, PASS);
    let by_alias = h
        .runtime
        .list_executions(ListExecutions {
            state_machine_arn: alias.arn.clone(),
            ..ListExecutions::default()
        })
        .await
        .unwrap();
    assert_eq!(by_alias.items.len(), 1);

    let bad_routes = AliasSpec {
        name: "bad".into(),
        description: String::new(),
        routes: vec![AliasRoute {
            version_arn: format!("{machine}:1"),
            weight: 50,
        }],
    };
    assert!(matches!(
        h.runtime.create_alias(bad_routes).await,
        Err(Error::ValidationException(_))
    ));
    let missing_version = AliasSpec {
        name: "ghost".into(),
        description: String::new(),
        routes: vec![AliasRoute {
            version_arn: format!("{machine}:9"),
            weight: 100,
        }],
    };
    assert!(matches!(
        h.runtime.create_alias(missing_version).await,
        Err(Error::ResourceNotFound(_))
    ));
    h.runtime.delete_state_machine(&alias.arn).await.unwrap();
    assert!(matches!(
        h.runtime.describe_alias(&alias.arn).await,
        Err(Error::ResourceNotFound(_))
    ));
    h.runtime.delete_state_machine(&machine).await.unwrap();
    assert!(matches!(
        h.runtime.describe_state_machine(&machine).await,
        Err(Error::StateMachineDoesNotExist(_))
    ));
    // The execution and its definition outlive the machine.
    assert_eq!(
        h.runtime
            .describe_state_machine_for_execution(&run.arn)
            .await
            .unwrap()
            .1,
        PASS
    );
}

#[tokio::test]
async fn activities_and_tags() {
    let h = Harness::memory().await;
    let request = CreateActivity {
        name: "act".into(),
        tags: vec![Tag {
            key: "team".into(),
            value: "a".into(),
        }],
        region: None,
    };
    let activity = h.runtime.create_activity(request.clone()).await.unwrap();
    assert_eq!(
        h.runtime.create_activity(request).await.unwrap(),
        activity,
        "idempotent"
    );
    assert_eq!(
        h.runtime.describe_activity(&activity.arn).await.unwrap(),
        activity
    );
    h.runtime
        .tag_resource(
            &activity.arn,
            vec![Tag {
                key: "env".into(),
                value: "dev".into(),
            }],
        )
        .await
        .unwrap();
    let tags = h.runtime.list_tags(&activity.arn).await.unwrap();
    assert_eq!(
        tags.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
        ["env", "team"]
    );
    h.runtime
        .untag_resource(&activity.arn, vec!["team".into()])
        .await
        .unwrap();
    assert_eq!(h.runtime.list_tags(&activity.arn).await.unwrap().len(), 1);
    let missing = "arn:aws:states:us-east-1:000000000000:activity:none";
    assert!(matches!(
        h.runtime.list_tags(missing).await,
        Err(Error::ResourceNotFound(_))
    ));
    assert!(matches!(
        h.runtime.describe_activity(missing).await,
        Err(Error::ActivityDoesNotExist(_))
    ));
    assert!(matches!(
        h.runtime
            .describe_activity("arn:aws:states:us-east-1:0:stateMachine:x")
            .await,
        Err(Error::InvalidArn(_))
    ));
    h.runtime.delete_activity(&activity.arn).await.unwrap();
    h.runtime.delete_activity(&activity.arn).await.unwrap();
    assert!(matches!(
        h.runtime.describe_activity(&activity.arn).await,
        Err(Error::ActivityDoesNotExist(_))
    ));
}

#[tokio::test]
async fn listing_pages_with_tokens() {
    let h = Harness::memory().await;
    let machine = h.machine("listed", WAIT).await;
    for n in 0..5 {
        h.start(&machine, &format!("run-{n}"), "{}").await;
        h.advance(1).await;
    }
    let mut names = Vec::new();
    let mut page = PageArgs {
        max_results: Some(2),
        next_token: None,
    };
    loop {
        let request = ListExecutions {
            state_machine_arn: machine.clone(),
            status: None,
            page: page.clone(),
        };
        let listed = h.runtime.list_executions(request).await.unwrap();
        assert!(listed.items.len() <= 2);
        names.extend(listed.items.into_iter().map(|e| e.name));
        match listed.next_token {
            Some(token) => page.next_token = Some(token),
            None => break,
        }
    }
    assert_eq!(
        names,
        ["run-4", "run-3", "run-2", "run-1", "run-0"],
        "newest first"
    );
    let running = ListExecutions {
        state_machine_arn: machine.clone(),
        status: Some(ExecutionStatus::Succeeded),
        page: PageArgs::default(),
    };
    assert!(
        h.runtime
            .list_executions(running)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let bad = ListExecutions {
        state_machine_arn: machine.clone(),
        status: None,
        page: PageArgs {
            max_results: None,
            next_token: Some("!!not a token".into()),
        },
    };
    assert!(matches!(
        h.runtime.list_executions(bad).await,
        Err(Error::InvalidToken(_))
    ));
    let too_many = PageArgs {
        max_results: Some(1001),
        next_token: None,
    };
    assert!(matches!(
        h.runtime.list_state_machines(too_many).await,
        Err(Error::ValidationException(_))
    ));
    let missing = ListExecutions {
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:none".into(),
        ..ListExecutions::default()
    };
    assert!(matches!(
        h.runtime.list_executions(missing).await,
        Err(Error::StateMachineDoesNotExist(_))
    ));

    // History pages forwards and backwards.
    let run = h.start(&machine, "paged", "{}").await;
    h.advance(5_000).await;
    h.finished(&run.arn).await;
    let all = h.history(&run.arn).await;
    let mut reversed = Vec::new();
    let mut page = PageArgs {
        max_results: Some(2),
        next_token: None,
    };
    loop {
        let request = baton_runtime::GetHistory {
            execution_arn: run.arn.clone(),
            reverse: true,
            page: page.clone(),
        };
        let listed = h.runtime.get_execution_history(request).await.unwrap();
        reversed.extend(listed.items);
        match listed.next_token {
            Some(token) => page.next_token = Some(token),
            None => break,
        }
    }
    reversed.reverse();
    assert_eq!(reversed, all);
}

#[tokio::test]
async fn a_start_sees_every_change_made_on_the_same_node() {
    let h = Harness::memory().await;
    let machine = h
        .runtime
        .create_state_machine(create("changing", PASS))
        .await
        .unwrap()
        .machine
        .arn;
    // The first start reads (and keeps) the record; the update must replace it at once.
    let first = h.start(&machine, "first", "{}").await;
    assert_eq!(first.status, ExecutionStatus::Succeeded);
    let update = UpdateStateMachine {
        arn: machine.clone(),
        definition: Some(WAIT.into()),
        ..UpdateStateMachine::default()
    };
    h.runtime.update_state_machine(update).await.unwrap();
    let second = h.start(&machine, "second", "{}").await;
    assert_eq!(second.status, ExecutionStatus::Running, "{second:?}");
    h.runtime.delete_state_machine(&machine).await.unwrap();
    let request = StartExecution {
        state_machine_arn: machine.clone(),
        name: Some("third".into()),
        input: None,
    };
    let gone = h.runtime.start_execution(request).await;
    assert!(
        matches!(gone, Err(Error::StateMachineDoesNotExist(_))),
        "{gone:?}"
    );
}
