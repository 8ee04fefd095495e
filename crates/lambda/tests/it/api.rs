//! The Lambda REST API: create, get, list, update, delete, error shapes, the local-directory
//! extension, reloading after a restart, and IAM query actions next to a Step Functions router.

use serde_json::{Value, json};

use crate::harness::{Harness, base64, have, zip_of};

const ECHO_PY: &str = "def handler(event, context):\n    return {'v': 1, 'event': event}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_lifecycle() {
    let mut h = Harness::start().await;
    let created = h
        .create(
            "f1",
            "python3.12",
            "app.handler",
            &[("app.py", ECHO_PY)],
            json!({"Timeout": 7, "MemorySize": 256, "Description": "d"}),
        )
        .await
        .json();
    for (key, want) in [
        ("FunctionName", json!("f1")),
        (
            "FunctionArn",
            json!("arn:aws:lambda:us-east-1:000000000000:function:f1"),
        ),
        ("Runtime", json!("python3.12")),
        ("Handler", json!("app.handler")),
        ("Timeout", json!(7)),
        ("MemorySize", json!(256)),
        ("Description", json!("d")),
        ("Version", json!("$LATEST")),
        ("State", json!("Active")),
        ("PackageType", json!("Zip")),
    ] {
        assert_eq!(created[key], want, "{key}");
    }
    let zip = zip_of(&[("app.py", ECHO_PY)]);
    assert_eq!(created["CodeSize"], json!(zip.len()));
    assert_eq!(created["CodeSha256"].as_str().map(str::len), Some(44));

    // Duplicate, missing, bad names.
    let dup = h
        .request("POST", "/2015-03-31/functions/", json!({"FunctionName": "f1", "Runtime": "python3.12", "Handler": "a.b", "Role": "r", "Code": {"ZipFile": base64(&zip)}}))
        .await;
    assert_eq!(
        (dup.status, dup.header("x-amzn-errortype").as_deref()),
        (409, Some("ResourceConflictException"))
    );
    let missing = h
        .request("GET", "/2015-03-31/functions/nope", Value::Null)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("x-amzn-errortype").as_deref(),
        Some("ResourceNotFoundException")
    );
    assert_eq!(
        missing.json()["Message"],
        json!("Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope")
    );
    let bad_zip = h
        .request("POST", "/2015-03-31/functions", json!({"FunctionName": "f2", "Runtime": "python3.12", "Handler": "a.b", "Role": "r", "Code": {"ZipFile": base64(b"not a zip")}}))
        .await;
    assert_eq!(
        (
            bad_zip.status,
            bad_zip.header("x-amzn-errortype").as_deref()
        ),
        (400, Some("InvalidParameterValueException"))
    );
    let bad_runtime = h
        .request("POST", "/2015-03-31/functions", json!({"FunctionName": "f2", "Runtime": "java21", "Handler": "a.b", "Role": "r", "Code": {"ZipFile": base64(&zip)}}))
        .await;
    assert_eq!(bad_runtime.status, 400);

    // Get by name and by ARN; list.
    let got = h
        .request(
            "GET",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af1",
            Value::Null,
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()["Configuration"]["FunctionName"], json!("f1"));
    let location = got.json()["Code"]["Location"]
        .as_str()
        .expect("location")
        .to_owned();
    let path = location
        .split_once(&h.addr.to_string())
        .expect("own address")
        .1
        .to_owned();
    let download = h.client.send("GET", &path, &[], Vec::new()).await;
    assert_eq!(download.body, zip);
    h.create(
        "f0",
        "nodejs20.x",
        "index.handler",
        &[("index.js", "exports.handler = async () => 0;")],
        json!({}),
    )
    .await;
    let list = h
        .request("GET", "/2015-03-31/functions/", Value::Null)
        .await
        .json();
    let names: Vec<&str> = list["Functions"]
        .as_array()
        .expect("functions")
        .iter()
        .filter_map(|f| f["FunctionName"].as_str())
        .collect();
    assert_eq!(names, ["f0", "f1"]);
    let page = h
        .request("GET", "/2015-03-31/functions/?MaxItems=1", Value::Null)
        .await
        .json();
    assert_eq!(page["NextMarker"], json!("f0"));
    let rest = h
        .request(
            "GET",
            "/2015-03-31/functions/?MaxItems=1&Marker=f0",
            Value::Null,
        )
        .await
        .json();
    assert_eq!(rest["Functions"][0]["FunctionName"], json!("f1"));
    assert!(rest.get("NextMarker").is_none());

    // Update configuration and code; the next invocation sees both.
    let updated = h
        .request(
            "PUT",
            "/2015-03-31/functions/f1/configuration",
            json!({"Timeout": 9, "Environment": {"Variables": {"K": "v"}}}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(
        updated.json()["Environment"],
        json!({"Variables": {"K": "v"}})
    );
    assert_ne!(updated.json()["RevisionId"], created["RevisionId"]);
    if have("python3") {
        assert_eq!(h.invoke("f1", &json!({"a": 1})).await.json()["v"], json!(1));
        let code =
            "import os\ndef handler(event, context):\n    return {'v': 2, 'k': os.environ['K']}\n";
        let new_code = h
            .request(
                "PUT",
                "/2015-03-31/functions/f1/code",
                json!({"ZipFile": base64(&zip_of(&[("app.py", code)]))}),
            )
            .await;
        assert_eq!(new_code.status, 200, "{}", new_code.text());
        assert_eq!(
            h.invoke("f1", &json!({})).await.json(),
            json!({"v": 2, "k": "v"})
        );
    }

    // Delete.
    let deleted = h
        .request("DELETE", "/2015-03-31/functions/f1", Value::Null)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        h.request("DELETE", "/2015-03-31/functions/f1", Value::Null)
            .await
            .status,
        404
    );
    assert_eq!(h.invoke("f1", &json!({})).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_survive_a_restart_and_directories_run_in_place() {
    if !have("python3") {
        return;
    }
    let mut h = Harness::start().await;
    h.create(
        "kept",
        "python3.12",
        "app.handler",
        &[("app.py", ECHO_PY)],
        json!({"Environment": {"Variables": {"A": "1"}}}),
    )
    .await;
    // A local directory (Baton extension), used in place: an edit shows on the next cold start.
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        src.path().join("app.py"),
        "def handler(e, c):\n    return 'from dir'\n",
    )
    .expect("write");
    let created = h
        .request(
            "POST",
            "/2015-03-31/functions",
            json!({"FunctionName": "local", "Runtime": "python3.12", "Handler": "app.handler", "Role": "r",
                   "Code": {"BatonDirectory": src.path().display().to_string()}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        h.invoke("local", &json!({})).await.json(),
        json!("from dir")
    );
    // LocalStack's convention for the same thing, reachable from the AWS CLI.
    let hot = h
        .request(
            "POST",
            "/2015-03-31/functions",
            json!({"FunctionName": "hot", "Runtime": "python3.12", "Handler": "app.handler", "Role": "r",
                   "Code": {"S3Bucket": "hot-reload", "S3Key": src.path().display().to_string()}}),
        )
        .await;
    assert_eq!(hot.status, 201, "{}", hot.text());

    let dir = h.stop();
    let mut h = Harness::start_in(dir).await;
    let names: Vec<String> = h.lambda.functions().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["hot", "kept", "local"]);
    assert_eq!(
        h.invoke("kept", &json!({"x": 1})).await.json(),
        json!({"v": 1, "event": {"x": 1}})
    );
    std::fs::write(
        src.path().join("app.py"),
        "def handler(e, c):\n    return 'edited'\n",
    )
    .expect("write");
    assert_eq!(h.invoke("hot", &json!({})).await.json(), json!("edited"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_query_actions_are_recorded_and_sfn_requests_pass_through() {
    let mut h = Harness::start().await;
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes()
    };
    let ct = [(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    // (form, status, text the XML must contain)
    let steps: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            form(&[
                ("Action", "CreateRole"),
                ("Version", "2010-05-08"),
                ("RoleName", "sfn-role"),
                ("AssumeRolePolicyDocument", trust),
            ]),
            200,
            "<Arn>arn:aws:iam::000000000000:role/sfn-role</Arn>",
        ),
        (
            form(&[
                ("Action", "CreateRole"),
                ("RoleName", "sfn-role"),
                ("AssumeRolePolicyDocument", trust),
            ]),
            409,
            "<Code>EntityAlreadyExists</Code>",
        ),
        (
            form(&[
                ("Action", "PutRolePolicy"),
                ("RoleName", "sfn-role"),
                ("PolicyName", "p"),
                ("PolicyDocument", "{}"),
            ]),
            200,
            "<PutRolePolicyResponse",
        ),
        (
            form(&[
                ("Action", "AttachRolePolicy"),
                ("RoleName", "sfn-role"),
                ("PolicyArn", "arn:aws:iam::aws:policy/AWSLambdaRole"),
            ]),
            200,
            "<AttachRolePolicyResponse",
        ),
        (
            form(&[("Action", "GetRole"), ("RoleName", "sfn-role")]),
            200,
            "%22states.amazonaws.com%22",
        ),
        (
            form(&[("Action", "ListRolePolicies"), ("RoleName", "sfn-role")]),
            200,
            "<member>p</member>",
        ),
        (
            form(&[("Action", "DeleteRole"), ("RoleName", "sfn-role")]),
            409,
            "<Code>DeleteConflict</Code>",
        ),
        (
            form(&[
                ("Action", "DeleteRolePolicy"),
                ("RoleName", "sfn-role"),
                ("PolicyName", "p"),
            ]),
            200,
            "<DeleteRolePolicyResponse",
        ),
        (
            form(&[
                ("Action", "DetachRolePolicy"),
                ("RoleName", "sfn-role"),
                ("PolicyArn", "arn:aws:iam::aws:policy/AWSLambdaRole"),
            ]),
            200,
            "<DetachRolePolicyResponse",
        ),
        (
            form(&[("Action", "DeleteRole"), ("RoleName", "sfn-role")]),
            200,
            "<DeleteRoleResponse",
        ),
        (
            form(&[("Action", "GetRole"), ("RoleName", "sfn-role")]),
            404,
            "<Code>NoSuchEntity</Code>",
        ),
    ];
    for (i, (body, status, needle)) in steps.into_iter().enumerate() {
        let reply = h.client.send("POST", "/", &ct, body).await;
        assert_eq!(reply.status, status, "step {i}: {}", reply.text());
        assert!(
            reply.text().contains(needle),
            "step {i}: {needle} not in {}",
            reply.text()
        );
    }
    // Step Functions requests (X-Amz-Target) and unknown query actions reach the inner router.
    let sfn = h
        .client
        .send(
            "POST",
            "/",
            &[
                ("x-amz-target", "AWSStepFunctions.ListStateMachines"),
                ("content-type", "application/x-amz-json-1.0"),
            ],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(sfn.text(), "sfn");
    let other = h
        .client
        .send("POST", "/", &ct, b"Action=SendMessage&QueueUrl=x".to_vec())
        .await;
    assert_eq!(other.text(), "sfn");
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_tags_concurrency_and_url_lists() {
    let mut h = Harness::start().await;
    h.create(
        "p",
        "python3.12",
        "app.handler",
        &[("app.py", ECHO_PY)],
        json!({"Tags": {"team": "a"}}),
    )
    .await;
    let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Ap";

    // AddPermission / GetPolicy / RemovePermission (function URL tutorials call these).
    let added = h
        .request(
            "POST",
            "/2015-03-31/functions/p/policy",
            json!({"StatementId": "url", "Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text());
    let statement: Value =
        serde_json::from_str(added.json()["Statement"].as_str().expect("statement")).expect("json");
    assert_eq!(
        statement["Condition"],
        json!({"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}})
    );
    let again = h
        .request("POST", "/2015-03-31/functions/p/policy", json!({"StatementId": "url", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"}))
        .await;
    assert_eq!(again.status, 409);
    let policy = h
        .request("GET", "/2015-03-31/functions/p/policy", Value::Null)
        .await
        .json();
    let policy: Value =
        serde_json::from_str(policy["Policy"].as_str().expect("policy")).expect("json");
    assert_eq!(policy["Statement"][0]["Sid"], json!("url"));
    assert_eq!(
        h.request("DELETE", "/2015-03-31/functions/p/policy/url", Value::Null)
            .await
            .status,
        204
    );
    assert_eq!(
        h.request("DELETE", "/2015-03-31/functions/p/policy/url", Value::Null)
            .await
            .status,
        404
    );
    assert_eq!(
        h.request("GET", "/2015-03-31/functions/p/policy", Value::Null)
            .await
            .status,
        404
    );

    // Tags by ARN.
    assert_eq!(
        h.request("GET", &format!("/2017-03-31/tags/{arn}"), Value::Null)
            .await
            .json(),
        json!({"Tags": {"team": "a"}})
    );
    assert_eq!(
        h.request(
            "POST",
            &format!("/2017-03-31/tags/{arn}"),
            json!({"Tags": {"env": "dev"}})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        h.request(
            "DELETE",
            &format!("/2017-03-31/tags/{arn}?tagKeys=team"),
            Value::Null
        )
        .await
        .status,
        204
    );
    assert_eq!(
        h.request("GET", &format!("/2017-03-31/tags/{arn}"), Value::Null)
            .await
            .json(),
        json!({"Tags": {"env": "dev"}})
    );

    // Concurrency and URL listings.
    assert_eq!(
        h.request("GET", "/2019-09-30/functions/p/concurrency", Value::Null)
            .await
            .json(),
        json!({})
    );
    h.request(
        "PUT",
        "/2017-10-31/functions/p/concurrency",
        json!({"ReservedConcurrentExecutions": 2}),
    )
    .await;
    assert_eq!(
        h.request("GET", "/2019-09-30/functions/p/concurrency", Value::Null)
            .await
            .json(),
        json!({"ReservedConcurrentExecutions": 2})
    );
    assert_eq!(
        h.request("GET", "/2021-10-31/functions/p/urls", Value::Null)
            .await
            .json(),
        json!({"FunctionUrlConfigs": []})
    );
    h.request(
        "POST",
        "/2021-10-31/functions/p/url",
        json!({"AuthType": "NONE"}),
    )
    .await;
    let urls = h
        .request("GET", "/2021-10-31/functions/p/urls", Value::Null)
        .await
        .json();
    assert_eq!(urls["FunctionUrlConfigs"][0]["AuthType"], json!("NONE"));
}
