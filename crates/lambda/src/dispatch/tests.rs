//! Unit tests for resource parsing and the result envelope.

use super::*;

#[test]
fn resources_name_integrations() {
    let cases = [
        (
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            Some(Integration::Function {
                name: "f".into(),
                wait_for_token: false,
            }),
        ),
        (
            "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
            Some(Integration::Function {
                name: "f".into(),
                wait_for_token: false,
            }),
        ),
        (
            "arn:aws:states:::lambda:invoke",
            Some(Integration::Invoke {
                wait_for_token: false,
            }),
        ),
        (
            "arn:aws:states:::lambda:invoke.waitForTaskToken",
            Some(Integration::Invoke {
                wait_for_token: true,
            }),
        ),
        ("arn:aws:states:::lambda:invoke.sync", None),
        ("arn:aws:states:::sqs:sendMessage", None),
        ("arn:aws:states:us-east-1:000000000000:activity:a", None),
    ];
    for (resource, want) in cases {
        assert_eq!(integration(resource), want, "{resource}");
    }
}

#[test]
fn function_errors_name_their_type() {
    let python = br#"{"errorMessage": "boom", "errorType": "Exception", "requestId": "r", "stackTrace": []}"#;
    let (error, cause) = function_failure(python, false);
    assert_eq!(error, "Exception");
    assert_eq!(cause.as_bytes(), python);
    let (_, compact) = function_failure(python, true);
    assert_eq!(
        compact,
        r#"{"errorMessage":"boom","errorType":"Exception","requestId":"r","stackTrace":[]}"#
    );
    let (unknown, _) = function_failure(br#"{"errorMessage":"x"}"#, true);
    assert_eq!(unknown, "Lambda.Unknown");
}

#[test]
fn envelope_has_the_aws_shape() {
    let result = InvokeResult {
        request_id: "rid".into(),
        status: 200,
        payload: br#"{"foo": "foo-1"}"#.to_vec(),
        function_error: None,
        log_result: None,
        executed_version: "$LATEST".into(),
    };
    let out = envelope(&result);
    let keys: Vec<&str> = out
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "ExecutedVersion",
            "Payload",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
            "StatusCode"
        ]
    );
    assert_eq!(out["Payload"], json!({"foo": "foo-1"}));
    assert_eq!(
        out["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"],
        json!("16")
    );
    assert_eq!(
        out["SdkHttpMetadata"]["AllHttpHeaders"]["x-amzn-RequestId"],
        json!(["rid"])
    );
    let flat: Vec<&str> = out["SdkHttpMetadata"]["HttpHeaders"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        flat,
        [
            "Connection",
            "Content-Length",
            "Content-Type",
            "Date",
            "X-Amz-Executed-Version",
            "x-amzn-Remapped-Content-Length",
            "x-amzn-RequestId",
            "X-Amzn-Trace-Id"
        ]
    );
    assert_eq!(out["StatusCode"], json!(200));
    assert_eq!(parse_payload(br#""HelloWorld!""#), json!("HelloWorld!"));
    assert_eq!(parse_payload(b"0.0").to_string(), "0.0");
}
