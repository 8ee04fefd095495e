//! Unit tests for the log tail and error documents.

use super::*;

#[test]
fn report_lines_have_aws_fields() {
    let text = report_lines(
        "rid",
        Duration::from_micros(1500),
        Some(Duration::from_millis(42)),
        128,
    );
    assert_eq!(
        text,
        "END RequestId: rid\nREPORT RequestId: rid\tDuration: 1.50 ms\tBilled Duration: 2 ms\t\
         Memory Size: 128 MB\tMax Memory Used: 128 MB\tInit Duration: 42.00 ms\t\n"
    );
}

#[test]
fn log_tail_keeps_the_last_4_kb() {
    let outcome = Outcome {
        payload: Vec::new(),
        error: false,
        logs: vec![b'x'; 10_000],
        duration: Duration::from_millis(1),
        init: None,
    };
    let tail = base64::engine::general_purpose::STANDARD
        .decode(log_tail("rid", &outcome, 128))
        .unwrap();
    assert_eq!(tail.len(), LOG_TAIL_BYTES);
    assert!(String::from_utf8_lossy(&tail).ends_with("Max Memory Used: 128 MB\t\n"));
}

#[test]
fn error_documents_pass_through_or_are_built() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-function-error-type",
        HeaderValue::from_static("Runtime.Custom"),
    );
    let json_doc = br#"{"errorType":"E","errorMessage":"m"}"#;
    assert_eq!(error_document(&headers, json_doc), json_doc.to_vec());
    let built: serde_json::Value =
        serde_json::from_slice(&error_document(&headers, b"not json")).unwrap();
    assert_eq!(
        built,
        json!({"errorMessage": "not json", "errorType": "Runtime.Custom"})
    );
}

#[test]
fn invocation_types_parse() {
    assert_eq!(
        InvocationType::parse(None).unwrap(),
        InvocationType::RequestResponse
    );
    assert_eq!(
        InvocationType::parse(Some("Event")).unwrap(),
        InvocationType::Event
    );
    assert_eq!(
        InvocationType::parse(Some("DryRun")).unwrap(),
        InvocationType::DryRun
    );
    assert!(InvocationType::parse(Some("Sync")).is_err());
}
