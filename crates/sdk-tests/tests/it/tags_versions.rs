//! Tags on machines and activities; versions and aliases, and executions started through
//! version and alias ARNs.

use aws_sdk_sfn::types::{ExecutionStatus, RoutingConfigurationListItem, Tag};
use serde_json::json;

use crate::harness::{Baton, ROLE, create_machine, unique, wait_done};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

#[tokio::test(flavor = "multi_thread")]
async fn tags() {
    let Some(baton) = Baton::start("tags_versions::tags") else {
        return;
    };
    let client = &baton.client;
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let machine = client
        .create_state_machine()
        .name(unique("tagged"))
        .definition(definition.to_string())
        .role_arn(ROLE)
        .tags(tag("team", "a"))
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let activity = client
        .create_activity()
        .name(unique("tagged"))
        .tags(tag("kind", "worker"))
        .send()
        .await
        .unwrap()
        .activity_arn;

    let listed = |arn: String| async move {
        let mut tags: Vec<(String, String)> = client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .expect("ListTagsForResource")
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
            .collect();
        tags.sort();
        tags
    };
    let pairs = |list: &[(&str, &str)]| {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(machine.clone()).await, pairs(&[("team", "a")]));
    assert_eq!(listed(activity.clone()).await, pairs(&[("kind", "worker")]));

    client
        .tag_resource()
        .resource_arn(&machine)
        .tags(tag("team", "b"))
        .tags(tag("env", "test"))
        .send()
        .await
        .expect("TagResource");
    assert_eq!(
        listed(machine.clone()).await,
        pairs(&[("env", "test"), ("team", "b")])
    );
    client
        .untag_resource()
        .resource_arn(&machine)
        .tag_keys("team")
        .send()
        .await
        .expect("UntagResource");
    assert_eq!(listed(machine.clone()).await, pairs(&[("env", "test")]));

    let missing = client
        .list_tags_for_resource()
        .resource_arn("arn:aws:states:us-east-1:000000000000:stateMachine:missing")
        .send()
        .await
        .expect_err("tags of a missing machine");
    assert!(missing.into_service_error().is_resource_not_found());
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_and_aliases() {
    let Some(baton) = Baton::start("tags_versions::versions_and_aliases") else {
        return;
    };
    let client = &baton.client;
    let returns = |value: &str| json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": value, "End": true}}});
    let machine = create_machine(client, &unique("versioned"), &returns("v1")).await;
    let v1 = client
        .publish_state_machine_version()
        .state_machine_arn(&machine)
        .description("first")
        .send()
        .await
        .expect("PublishStateMachineVersion")
        .state_machine_version_arn;
    assert_eq!(v1, format!("{machine}:1"));
    client
        .update_state_machine()
        .state_machine_arn(&machine)
        .definition(returns("v2").to_string())
        .send()
        .await
        .unwrap();
    let v2 = client
        .update_state_machine()
        .state_machine_arn(&machine)
        .definition(returns("v2").to_string())
        .publish(true)
        .send()
        .await
        .unwrap()
        .state_machine_version_arn
        .expect("published version");
    assert_eq!(v2, format!("{machine}:2"));
    let versions = client
        .list_state_machine_versions()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    let arns: Vec<_> = versions
        .state_machine_versions
        .iter()
        .map(|v| v.state_machine_version_arn.clone())
        .collect();
    assert_eq!(arns, [v2.clone(), v1.clone()], "newest first");

    let route = |version: &str, weight: i32| {
        RoutingConfigurationListItem::builder()
            .state_machine_version_arn(version)
            .weight(weight)
            .build()
            .unwrap()
    };
    let alias = client
        .create_state_machine_alias()
        .name("live")
        .routing_configuration(route(&v1, 100))
        .send()
        .await
        .expect("CreateStateMachineAlias")
        .state_machine_alias_arn;
    assert_eq!(alias, format!("{machine}:live"));

    let run = |arn: String| async move {
        let started = client
            .start_execution()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
        let done = wait_done(client, &started.execution_arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        (
            serde_json::from_str::<serde_json::Value>(done.output().unwrap()).unwrap(),
            done,
        )
    };
    let (output, done) = run(v1.clone()).await;
    assert_eq!(output, json!("v1"));
    assert_eq!(done.state_machine_version_arn(), Some(v1.as_str()));
    let (output, done) = run(alias.clone()).await;
    assert_eq!(output, json!("v1"));
    assert_eq!(done.state_machine_alias_arn(), Some(alias.as_str()));
    assert_eq!(run(machine.clone()).await.0, json!("v2"));

    client
        .update_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .routing_configuration(route(&v2, 100))
        .send()
        .await
        .expect("UpdateStateMachineAlias");
    assert_eq!(run(alias.clone()).await.0, json!("v2"));
    let described = client
        .describe_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .unwrap();
    assert_eq!(described.name(), Some("live"));
    let aliases = client
        .list_state_machine_aliases()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    assert_eq!(aliases.state_machine_aliases.len(), 1);

    // A version that an alias routes to cannot be deleted; after the alias goes, it can.
    let busy = client
        .delete_state_machine_version()
        .state_machine_version_arn(&v2)
        .send()
        .await;
    assert!(busy.is_err(), "deleting a routed version must fail");
    client
        .delete_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .expect("DeleteStateMachineAlias");
    client
        .delete_state_machine_version()
        .state_machine_version_arn(&v2)
        .send()
        .await
        .expect("DeleteStateMachineVersion");
    let versions = client
        .list_state_machine_versions()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.state_machine_versions.len(), 1);
}
