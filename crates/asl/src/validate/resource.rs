//! Task `Resource` ARNs: well-formed ARNs, known optimized service integrations, and what an
//! Express state machine may not use.

/// Optimized integrations (`arn:aws:states:::service:action`) whose full action list we know.
/// Services missing here are accepted as they are, so that a gap in this table can never block
/// a definition AWS accepts.
const SERVICES: &[(&str, &[&str])] = &[
    ("lambda", &["invoke"]),
    (
        "dynamodb",
        &["getItem", "putItem", "deleteItem", "updateItem"],
    ),
    ("sns", &["publish"]),
    ("sqs", &["sendMessage"]),
    ("states", &["startExecution"]),
    ("events", &["putEvents"]),
    ("ecs", &["runTask"]),
    ("batch", &["submitJob"]),
    ("glue", &["startJobRun"]),
    (
        "athena",
        &[
            "startQueryExecution",
            "stopQueryExecution",
            "getQueryExecution",
            "getQueryResults",
        ],
    ),
    ("apigateway", &["invoke"]),
    ("http", &["invoke"]),
];

/// The diagnostics (code, message) for one `Resource` value.
pub(crate) fn check(arn: &str, express: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[2].is_empty() || parts[5].is_empty() {
        out.push((
            "INVALID_RESOURCE",
            format!("Value is not a valid resource ARN: {arn}"),
        ));
        return out;
    }
    let (service, region, account, rest) = (parts[2], parts[3], parts[4], parts[5]);
    if service != "states" {
        return out;
    }
    if region.is_empty() && account.is_empty() {
        let (action, pattern) = split_pattern(rest);
        let mut pieces = action.splitn(2, ':');
        let integration = pieces.next().unwrap_or_default();
        let operation = pieces.next().unwrap_or_default();
        let known = match SERVICES.iter().find(|(name, _)| *name == integration) {
            Some((_, actions)) => actions.contains(&operation),
            None => integration != "aws-sdk" || operation.split(':').all(|p| !p.is_empty()),
        };
        if !known || operation.is_empty() {
            out.push((
                "SCHEMA_VALIDATION_FAILED",
                format!(
                    "The resource provided arn:<partition>:states:::{rest} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
                ),
            ));
        }
        if express {
            match pattern {
                Some(".waitForTaskToken") => out.push((
                    "SCHEMA_VALIDATION_FAILED",
                    "Express state machine does not support '.waitForTaskToken' service integration ".to_owned(),
                )),
                Some(".sync" | ".sync:2") => out.push((
                    "SCHEMA_VALIDATION_FAILED",
                    "Express state machine does not support '.sync' service integration ".to_owned(),
                )),
                _ => {}
            }
        }
    } else if rest.starts_with("activity:") && express {
        out.push((
            "SCHEMA_VALIDATION_FAILED",
            "Express state machine does not support Activity ARN".to_owned(),
        ));
    }
    out
}

/// Splits `sqs:sendMessage.waitForTaskToken` into the action and its integration pattern.
fn split_pattern(rest: &str) -> (&str, Option<&str>) {
    for pattern in [".waitForTaskToken", ".sync:2", ".sync"] {
        if let Some(action) = rest.strip_suffix(pattern) {
            return (action, Some(pattern));
        }
    }
    (rest, None)
}
