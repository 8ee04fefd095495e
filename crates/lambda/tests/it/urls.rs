//! Function URLs: configuration CRUD, the payload format 2.0 event as the handler sees it,
//! response mapping, the host form, and AWS_IAM auth.

use serde_json::{Value, json};

use crate::harness::{Harness, have};

const ECHO_EVENT: &str = "exports.handler = async (event) => {\n\
  if (event.rawPath === '/structured') return { statusCode: 201, headers: { 'x-made': 'yes', 'content-type': 'text/plain' }, cookies: ['c=1'], body: 'made' };\n\
  if (event.rawPath === '/fail') throw new Error('broken');\n\
  return event;\n};";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_urls() {
    if !have("node") {
        return;
    }
    let mut h = Harness::start().await;
    h.create(
        "web",
        "nodejs20.x",
        "index.handler",
        &[("index.js", ECHO_EVENT)],
        json!({}),
    )
    .await;
    let missing = h
        .request("GET", "/2021-10-31/functions/web/url", Value::Null)
        .await;
    assert_eq!(missing.status, 404);
    let created = h
        .request(
            "POST",
            "/2021-10-31/functions/web/url",
            json!({"AuthType": "NONE", "Cors": {"AllowOrigins": ["*"]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let config = created.json();
    let url = format!("http://{}/lambda-url/web/", h.addr);
    assert_eq!(config["FunctionUrl"], json!(url));
    assert_eq!(
        config["FunctionArn"],
        json!("arn:aws:lambda:us-east-1:000000000000:function:web")
    );
    assert_eq!(config["AuthType"], json!("NONE"));
    assert_eq!(config["Cors"], json!({"AllowOrigins": ["*"]}));
    assert_eq!(config["InvokeMode"], json!("BUFFERED"));
    let again = h
        .request(
            "POST",
            "/2021-10-31/functions/web/url",
            json!({"AuthType": "NONE"}),
        )
        .await;
    assert_eq!(again.status, 409);
    let got = h
        .request("GET", "/2021-10-31/functions/web/url", Value::Null)
        .await
        .json();
    assert!(got["LastModifiedTime"].is_string());

    // The event as the handler sees it.
    let reply = h
        .client
        .send(
            "POST",
            "/lambda-url/web/approve/now?taskToken=abc%2B1&result=yes&result=no",
            &[
                ("content-type", "application/json"),
                ("cookie", "a=1; b=2"),
                ("x-multi", "one"),
            ],
            br#"{"hello": "world"}"#.to_vec(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/json")
    );
    let event = reply.json();
    for (pointer, want) in [
        ("/version", json!("2.0")),
        ("/routeKey", json!("$default")),
        ("/rawPath", json!("/approve/now")),
        (
            "/rawQueryString",
            json!("taskToken=abc%2B1&result=yes&result=no"),
        ),
        (
            "/queryStringParameters",
            json!({"result": "yes,no", "taskToken": "abc+1"}),
        ),
        ("/cookies", json!(["a=1", "b=2"])),
        ("/headers/x-multi", json!("one")),
        ("/headers/content-type", json!("application/json")),
        ("/body", json!(r#"{"hello": "world"}"#)),
        ("/isBase64Encoded", json!(false)),
        ("/requestContext/http/method", json!("POST")),
        ("/requestContext/http/path", json!("/approve/now")),
        ("/requestContext/stage", json!("$default")),
    ] {
        assert_eq!(event.pointer(pointer), Some(&want), "{pointer} in {event}");
    }
    assert!(event.pointer("/headers/cookie").is_none());
    assert!(event["requestContext"]["timeEpoch"].is_u64());
    let url_id = event["requestContext"]["domainPrefix"]
        .as_str()
        .expect("url id")
        .to_owned();
    assert_eq!(url_id.len(), 32);

    // Binary bodies arrive base64-encoded; GET without query has no queryStringParameters.
    let binary = h
        .client
        .send(
            "PUT",
            "/lambda-url/web/bin",
            &[("content-type", "application/octet-stream")],
            vec![0, 159, 146, 150],
        )
        .await
        .json();
    assert_eq!(
        (binary["isBase64Encoded"].clone(), binary["body"].clone()),
        (json!(true), json!("AJ+Slg=="))
    );
    let plain = h
        .client
        .send("GET", "/lambda-url/web", &[], Vec::new())
        .await
        .json();
    assert_eq!(plain["rawPath"], json!("/"));
    assert!(plain.get("queryStringParameters").is_none() && plain.get("body").is_none());

    // Structured responses and errors.
    let structured = h
        .client
        .send("GET", "/lambda-url/web/structured", &[], Vec::new())
        .await;
    assert_eq!(
        (structured.status, structured.text()),
        (201, "made".to_owned())
    );
    assert_eq!(structured.header("x-made").as_deref(), Some("yes"));
    assert_eq!(structured.header("set-cookie").as_deref(), Some("c=1"));
    let failed = h
        .client
        .send("GET", "/lambda-url/web/fail", &[], Vec::new())
        .await;
    assert_eq!(failed.status, 502);

    // The host form reaches the same function.
    let host = format!("{url_id}.lambda-url.us-east-1.localhost:{}", h.addr.port());
    let by_host = h
        .client
        .send("GET", "/by/host?x=1", &[("host", &host)], Vec::new())
        .await;
    assert_eq!(by_host.status, 200, "{}", by_host.text());
    assert_eq!(by_host.json()["rawPath"], json!("/by/host"));

    // AWS_IAM needs a signed request.
    let updated = h
        .request(
            "PUT",
            "/2021-10-31/functions/web/url",
            json!({"AuthType": "AWS_IAM"}),
        )
        .await;
    assert_eq!(updated.json()["AuthType"], json!("AWS_IAM"));
    assert_eq!(
        h.client
            .send("GET", "/lambda-url/web/", &[], Vec::new())
            .await
            .status,
        403
    );
    let signed = h
        .client
        .send(
            "GET",
            "/lambda-url/web/",
            &[("authorization", "AWS4-HMAC-SHA256 Credential=test/...")],
            Vec::new(),
        )
        .await;
    assert_eq!(signed.status, 200);
    assert_eq!(
        signed.json()["requestContext"]["authorizer"]["iam"]["accountId"],
        json!("000000000000")
    );

    // Deleted: the URL answers 404.
    assert_eq!(
        h.request("DELETE", "/2021-10-31/functions/web/url", Value::Null)
            .await
            .status,
        204
    );
    assert_eq!(
        h.client
            .send("GET", "/lambda-url/web/", &[], Vec::new())
            .await
            .status,
        404
    );
    assert_eq!(
        h.client
            .send("GET", "/", &[("host", &host)], Vec::new())
            .await
            .status,
        404
    );
}
