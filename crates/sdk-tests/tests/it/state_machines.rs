//! State machine lifecycle: create (idempotent), describe, list with pagination, update,
//! delete.

use aws_sdk_sfn::types::{StateMachineStatus, StateMachineType};
use serde_json::json;

use crate::harness::{Baton, MACHINE_PREFIX, ROLE, create_machine, unique};

fn pass(result: &str) -> serde_json::Value {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": true}}})
}

#[tokio::test(flavor = "multi_thread")]
async fn lifecycle() {
    let Some(baton) = Baton::start("state_machines::lifecycle") else {
        return;
    };
    let client = &baton.client;
    let name = unique("lifecycle");
    let arn = create_machine(client, &name, &pass("one")).await;
    assert_eq!(arn, format!("{MACHINE_PREFIX}{name}"));

    // Re-creating with the identical definition and role returns the same machine.
    let again = client
        .create_state_machine()
        .name(&name)
        .definition(pass("one").to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("idempotent re-create");
    assert_eq!(again.state_machine_arn, arn);
    // A different definition under the same name is a conflict.
    let conflict = client
        .create_state_machine()
        .name(&name)
        .definition(pass("two").to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("different definition, same name");
    assert!(
        conflict
            .into_service_error()
            .is_state_machine_already_exists()
    );

    let described = client
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.name, name);
    assert_eq!(described.role_arn, ROLE);
    assert_eq!(described.r#type, StateMachineType::Standard);
    assert_eq!(described.status, Some(StateMachineStatus::Active));
    let definition: serde_json::Value = serde_json::from_str(&described.definition).unwrap();
    assert_eq!(definition, pass("one"));

    let updated = client
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(pass("two").to_string())
        .send()
        .await
        .expect("UpdateStateMachine");
    assert!(updated.update_date.secs() > 0);
    let described = client
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let definition: serde_json::Value = serde_json::from_str(&described.definition).unwrap();
    assert_eq!(definition, pass("two"));

    client
        .delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .expect("delete");
    let gone = client
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .expect_err("describe after delete");
    assert!(gone.into_service_error().is_state_machine_does_not_exist());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_pages() {
    let Some(baton) = Baton::start("state_machines::list_pages") else {
        return;
    };
    let client = &baton.client;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(create_machine(client, &format!("listed-{i}"), &pass("x")).await);
    }
    for page_size in [1, 2, 3, 7, 100] {
        let mut seen = Vec::new();
        let mut token = None;
        let mut pages = 0;
        loop {
            let output = client
                .list_state_machines()
                .max_results(page_size)
                .set_next_token(token)
                .send()
                .await
                .expect("ListStateMachines");
            assert!(output.state_machines.len() <= page_size as usize);
            seen.extend(
                output
                    .state_machines
                    .iter()
                    .map(|m| m.state_machine_arn.clone()),
            );
            pages += 1;
            token = output.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            seen.len(),
            "duplicates with pages of {page_size}: {seen:?}"
        );
        let mut expected = created.clone();
        expected.sort();
        assert_eq!(sorted, expected, "pages of {page_size}");
        assert!(
            pages >= 7usize.div_ceil(page_size as usize),
            "pages of {page_size}"
        );
    }
    // The SDK's paginator agrees.
    let all: Vec<_> = client
        .list_state_machines()
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginator");
    assert_eq!(all.len(), 7);
}
