//! State machine, tag, version and alias actions: response shapes and AWS's rules.

use serde_json::json;

use crate::harness::{PASS, ROLE, is_recent_timestamp, start};

#[tokio::test]
async fn create_describe_update_list_delete() {
    let server = start().await;
    let created = server
        .ok(
            "CreateStateMachine",
            json!({"name": "orders", "definition": PASS, "roleArn": ROLE}),
        )
        .await;
    let arn = "arn:aws:states:us-east-1:000000000000:stateMachine:orders";
    assert_eq!(created["stateMachineArn"], arn);
    assert!(is_recent_timestamp(&created["creationDate"]), "{created}");
    assert_eq!(created.as_object().unwrap().len(), 2, "{created}");

    // Identical re-create is idempotent; a different definition is a conflict.
    let again = server
        .ok(
            "CreateStateMachine",
            json!({"name": "orders", "definition": PASS, "roleArn": ROLE}),
        )
        .await;
    assert_eq!(again, created);
    let other = r#"{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}"#;
    let conflict = server
        .call(
            "CreateStateMachine",
            json!({"name": "orders", "definition": other, "roleArn": ROLE}),
        )
        .await;
    assert_eq!(conflict.error(), "StateMachineAlreadyExists");

    let described = server
        .ok("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(described["stateMachineArn"], arn);
    assert_eq!(described["name"], "orders");
    assert_eq!(described["status"], "ACTIVE");
    assert_eq!(described["definition"], PASS);
    assert_eq!(described["roleArn"], ROLE);
    assert_eq!(described["type"], "STANDARD");
    assert_eq!(described["creationDate"], created["creationDate"]);
    assert_eq!(
        described["loggingConfiguration"],
        json!({"level": "OFF", "includeExecutionData": false})
    );
    assert_eq!(described["tracingConfiguration"], json!({"enabled": false}));

    let updated = server
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": other}),
        )
        .await;
    assert!(is_recent_timestamp(&updated["updateDate"]));
    assert!(updated["revisionId"].is_string());
    let described = server
        .ok("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(described["definition"], other);

    for name in ["b-machine", "c-machine"] {
        server.machine(name, PASS).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = json!({"maxResults": 2});
        if let Some(token) = &token {
            request["nextToken"] = json!(token);
        }
        let page = server.ok("ListStateMachines", request).await;
        let items = page["stateMachines"].as_array().unwrap();
        assert!(items.len() <= 2);
        for item in items {
            assert_eq!(item.as_object().unwrap().len(), 4, "{item}");
            assert_eq!(item["type"], "STANDARD");
            assert!(is_recent_timestamp(&item["creationDate"]));
            seen.push(item["name"].as_str().unwrap().to_string());
        }
        match page.get("nextToken").and_then(|t| t.as_str()) {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["b-machine", "c-machine", "orders"]);

    assert_eq!(
        server
            .ok("DeleteStateMachine", json!({"stateMachineArn": arn}))
            .await,
        json!({})
    );
    let gone = server
        .call("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(gone.error(), "StateMachineDoesNotExist");
}

#[tokio::test]
async fn region_follows_the_signature() {
    let server = start().await;
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/states/aws4_request, \
                SignedHeaders=host;x-amz-date, Signature=0123";
    let body = json!({"name": "regional", "definition": PASS, "roleArn": ROLE}).to_string();
    let reply = server
        .raw(
            Some("AWSStepFunctions.CreateStateMachine"),
            body.as_bytes(),
            &[("authorization", auth)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body["stateMachineArn"],
        "arn:aws:states:eu-west-1:000000000000:stateMachine:regional"
    );
    let activity = json!({"name": "regional"}).to_string();
    let reply = server
        .raw(
            Some("AWSStepFunctions.CreateActivity"),
            activity.as_bytes(),
            &[("authorization", auth)],
        )
        .await;
    assert_eq!(
        reply.body["activityArn"],
        "arn:aws:states:eu-west-1:000000000000:activity:regional"
    );

    // Lists are regional: the default region does not see eu-west-1's resources.
    server.machine("home", PASS).await;
    let home = server.ok("ListStateMachines", json!({})).await;
    let names: Vec<&str> = home["stateMachines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["home"]);
    let away = server
        .raw(
            Some("AWSStepFunctions.ListStateMachines"),
            b"{}",
            &[("authorization", auth)],
        )
        .await;
    assert_eq!(away.body["stateMachines"][0]["name"], "regional");
    assert_eq!(away.body["stateMachines"].as_array().unwrap().len(), 1);
    let activities = server.ok("ListActivities", json!({})).await;
    assert_eq!(activities["activities"], json!([]));
}

#[tokio::test]
async fn validate_definition() {
    let server = start().await;
    let ok = server
        .ok(
            "ValidateStateMachineDefinition",
            json!({"definition": PASS}),
        )
        .await;
    assert_eq!(
        ok,
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
    let bad = server
        .ok(
            "ValidateStateMachineDefinition",
            json!({"definition": r#"{"StartAt":"Missing","States":{}}"#}),
        )
        .await;
    assert_eq!(bad["result"], "FAIL");
    let diagnostics = bad["diagnostics"].as_array().unwrap();
    assert!(!diagnostics.is_empty());
    for diagnostic in diagnostics {
        assert_eq!(diagnostic["severity"], "ERROR");
        assert!(diagnostic["code"].is_string() && diagnostic["message"].is_string());
    }
    let limited = server
        .ok(
            "ValidateStateMachineDefinition",
            json!({"definition": r#"{"StartAt":"Missing","States":{}}"#, "maxResults": 1}),
        )
        .await;
    assert_eq!(limited["diagnostics"].as_array().unwrap().len(), 1);
    assert_eq!(limited["truncated"], diagnostics.len() > 1);
}

#[tokio::test]
async fn tags() {
    let server = start().await;
    let arn = server.machine("tagged", PASS).await;
    server
        .ok("TagResource", json!({"resourceArn": arn, "tags": [{"key": "team", "value": "a"}, {"key": "env", "value": "dev"}]}))
        .await;
    server
        .ok(
            "UntagResource",
            json!({"resourceArn": arn, "tagKeys": ["env"]}),
        )
        .await;
    let listed = server
        .ok("ListTagsForResource", json!({"resourceArn": arn}))
        .await;
    assert_eq!(listed, json!({"tags": [{"key": "team", "value": "a"}]}));
    let too_many: Vec<_> = (0..51)
        .map(|i| json!({"key": format!("k{i}"), "value": ""}))
        .collect();
    let reply = server
        .call("TagResource", json!({"resourceArn": arn, "tags": too_many}))
        .await;
    assert_eq!(reply.error(), "TooManyTags");
}

#[tokio::test]
async fn versions_and_aliases() {
    let server = start().await;
    let created = server
        .ok(
            "CreateStateMachine",
            json!({"name": "v", "definition": PASS, "roleArn": ROLE, "publish": true}),
        )
        .await;
    let arn = created["stateMachineArn"].as_str().unwrap();
    let v1 = format!("{arn}:1");
    assert_eq!(created["stateMachineVersionArn"], v1.as_str());

    let version = server
        .ok("DescribeStateMachine", json!({"stateMachineArn": v1}))
        .await;
    assert_eq!(version["stateMachineArn"], v1.as_str());
    assert_eq!(version["definition"], PASS);

    let other = r#"{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}"#;
    server
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": other}),
        )
        .await;
    let published = server
        .ok(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn, "description": "second"}),
        )
        .await;
    let v2 = format!("{arn}:2");
    assert_eq!(published["stateMachineVersionArn"], v2.as_str());
    let versions = server
        .ok("ListStateMachineVersions", json!({"stateMachineArn": arn}))
        .await;
    let listed: Vec<_> = versions["stateMachineVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["stateMachineVersionArn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, [v2.clone(), v1.clone()]);

    let alias = server
        .ok(
            "CreateStateMachineAlias",
            json!({"name": "prod", "routingConfiguration": [{"stateMachineVersionArn": v1, "weight": 100}]}),
        )
        .await;
    let alias_arn = format!("{arn}:prod");
    assert_eq!(alias["stateMachineAliasArn"], alias_arn.as_str());
    server
        .ok(
            "UpdateStateMachineAlias",
            json!({"stateMachineAliasArn": alias_arn, "routingConfiguration": [{"stateMachineVersionArn": v2, "weight": 100}]}),
        )
        .await;
    let described = server
        .ok(
            "DescribeStateMachineAlias",
            json!({"stateMachineAliasArn": alias_arn}),
        )
        .await;
    assert_eq!(described["name"], "prod");
    assert_eq!(
        described["routingConfiguration"],
        json!([{"stateMachineVersionArn": v2, "weight": 100}])
    );

    // An execution through the alias runs version 2 and records both ARNs.
    let started = server
        .ok(
            "StartExecution",
            json!({"stateMachineArn": alias_arn, "name": "via-alias"}),
        )
        .await;
    let execution = server.wait(started["executionArn"].as_str().unwrap()).await;
    assert_eq!(execution["status"], "SUCCEEDED");
    assert_eq!(execution["stateMachineVersionArn"], v2.as_str());
    assert_eq!(execution["stateMachineAliasArn"], alias_arn.as_str());

    let aliases = server
        .ok("ListStateMachineAliases", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(aliases["stateMachineAliases"].as_array().unwrap().len(), 1);
    server
        .ok(
            "DeleteStateMachineAlias",
            json!({"stateMachineAliasArn": alias_arn}),
        )
        .await;
    server
        .ok(
            "DeleteStateMachineVersion",
            json!({"stateMachineVersionArn": v1}),
        )
        .await;
    let versions = server
        .ok("ListStateMachineVersions", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(
        versions["stateMachineVersions"].as_array().unwrap().len(),
        1
    );
}
