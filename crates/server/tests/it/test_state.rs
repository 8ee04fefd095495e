//! TestState: one row per state and request, with the status, output, next state and error
//! AWS reports for it.

use serde_json::{Value, json};

use crate::harness::start;

/// A request and what AWS answers: status, output, nextState, error.
type Row = (
    Value,
    &'static str,
    Option<Value>,
    Option<&'static str>,
    Option<&'static str>,
);

#[tokio::test]
async fn test_state_table() {
    let server = start().await;
    // (request, expected status, output, nextState, error)
    let rows: Vec<Row> = vec![
        (
            json!({"definition": r#"{"Type":"Pass","Parameters":{"name.$":"$$.Execution.Name","item.$":"$$.Map.Item.Value"},"End":true}"#,
                   "context": r#"{"Execution":{"Name":"given"},"Map":{"Item":{"Index":0,"Value":"x"}}}"#}),
            "SUCCEEDED",
            Some(json!({"name": "given", "item": "x"})),
            None,
            None,
        ),
        (
            json!({"definition": r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.context.Execution.Name %}","End":true}"#,
                   "context": r#"{"Execution":{"Name":"given"}}"#}),
            "SUCCEEDED",
            Some(json!("given")),
            None,
            None,
        ),
        (
            json!({"definition": r#"{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.a, $.b)"},"Next":"After"}"#, "input": r#"{"a":1,"b":2}"#}),
            "SUCCEEDED",
            Some(json!({"sum": 3})),
            Some("After"),
            None,
        ),
        (
            json!({"definition": r#"{"Type":"Pass","End":true}"#, "input": r#"{"k":"v"}"#}),
            "SUCCEEDED",
            Some(json!({"k": "v"})),
            None,
            None,
        ),
        (
            json!({"definition": r#"{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":5,"Next":"Big"}],"Default":"Small"}"#, "input": r#"{"n":7}"#}),
            "SUCCEEDED",
            Some(json!({"n": 7})),
            Some("Big"),
            None,
        ),
        (
            json!({"definition": r#"{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":5,"Next":"Big"}]}"#, "input": r#"{"n":1}"#}),
            "FAILED",
            None,
            None,
            Some("States.NoChoiceMatched"),
        ),
        (
            json!({"definition": r#"{"Type":"Wait","Seconds":3600,"Next":"Later"}"#, "input": "{}"}),
            "SUCCEEDED",
            Some(json!({})),
            Some("Later"),
            None,
        ),
        (
            json!({"definition": r#"{"Type":"Fail","Error":"Oops","Cause":"why"}"#}),
            "FAILED",
            None,
            None,
            Some("Oops"),
        ),
        (
            json!({"definition": r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"ResultSelector":{"v.$":"$.Payload"},"End":true}"#,
                   "mock": {"result": r#"{"Payload": 42}"#}}),
            "SUCCEEDED",
            Some(json!({"v": 42})),
            None,
            None,
        ),
        (
            json!({"definition": r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Handler"}],"End":true}"#,
                   "input": r#"{"x":1}"#, "mock": {"errorOutput": {"error": "Boom", "cause": "bad"}}}),
            "CAUGHT_ERROR",
            Some(json!({"x": 1, "err": {"Error": "Boom", "Cause": "bad"}})),
            Some("Handler"),
            Some("Boom"),
        ),
        (
            json!({"definition": r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":5}],"End":true}"#,
                   "mock": {"errorOutput": {"error": "Boom", "cause": "bad"}}}),
            "RETRIABLE",
            None,
            None,
            Some("Boom"),
        ),
        (
            json!({"definition": r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}"#,
                   "mock": {"errorOutput": {"error": "Boom"}}}),
            "FAILED",
            None,
            None,
            Some("Boom"),
        ),
        (
            json!({"definition": r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Result":"b","End":true}}}"#, "stateName": "B"}),
            "SUCCEEDED",
            Some(json!("b")),
            None,
            None,
        ),
        (
            json!({"definition": r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $base + $states.input.n %}","End":true}"#,
                   "input": r#"{"n":2}"#, "variables": r#"{"base":40}"#}),
            "SUCCEEDED",
            Some(json!(42)),
            None,
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (request, status, output, next, error) in rows {
        let reply = server.call("TestState", request.clone()).await;
        let body = &reply.body;
        let got_output = body
            .get("output")
            .and_then(Value::as_str)
            .map(|t| serde_json::from_str::<Value>(t).unwrap());
        let ok = reply.status == 200
            && body["status"] == status
            && got_output == output
            && body.get("nextState").and_then(Value::as_str) == next
            && body.get("error").and_then(Value::as_str) == error;
        if !ok {
            failures.push(format!(
                "{request}\n  expected {status} {output:?} {next:?} {error:?}\n  got {} {body}",
                reply.status
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn test_state_inspection_and_refusals() {
    let server = start().await;
    let reply = server
        .ok(
            "TestState",
            json!({"definition": r#"{"Type":"Pass","Assign":{"seen.$":"$.a"},"End":true}"#,
                   "input": r#"{"a":5}"#, "variables": r#"{"old":1}"#, "inspectionLevel": "DEBUG"}),
        )
        .await;
    let data = &reply["inspectionData"];
    assert_eq!(
        serde_json::from_str::<Value>(data["input"].as_str().unwrap()).unwrap(),
        json!({"a": 5})
    );
    assert_eq!(
        serde_json::from_str::<Value>(data["variables"].as_str().unwrap()).unwrap(),
        json!({"old": 1, "seen": 5})
    );
    let info = server
        .ok(
            "TestState",
            json!({"definition": r#"{"Type":"Pass","End":true}"#}),
        )
        .await;
    assert!(info.get("inspectionData").is_none());

    for (request, error) in [
        (
            json!({"definition": r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}"#}),
            "ValidationException",
        ),
        (
            json!({"definition": r#"{"Type":"Pass"}"#}),
            "InvalidDefinition",
        ),
        (json!({"definition": "not json"}), "InvalidDefinition"),
        (
            json!({"definition": r#"{"Type":"Pass","End":true}"#, "input": "{bad"}),
            "InvalidExecutionInput",
        ),
        (
            json!({"definition": r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#}),
            "ValidationException",
        ),
        (
            json!({"definition": r#"{"Type":"Pass","End":true}"#, "inspectionLevel": "LOUD"}),
            "ValidationException",
        ),
    ] {
        let reply = server.call("TestState", request.clone()).await;
        assert_eq!(reply.error(), error, "{request}: {}", reply.body);
    }
}
