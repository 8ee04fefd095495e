//! Unit tests for the function URL response mapping and host parsing.

use super::*;

async fn parts(payload: &str) -> (u16, Vec<(String, String)>, String) {
    let response = http_response(payload.as_bytes());
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn responses_map_as_aws_does() {
    // (handler result, status, content-type, body)
    let cases = [
        (
            r#"{"message":"hi"}"#,
            200,
            "application/json",
            r#"{"message":"hi"}"#,
        ),
        (
            r#""Hello (world)""#,
            200,
            "application/json",
            "Hello (world)",
        ),
        ("42", 200, "application/json", "42"),
        (
            r#"{"statusCode":201,"headers":{"content-type":"text/plain","x-a":"1"},"body":"made"}"#,
            201,
            "text/plain",
            "made",
        ),
        (r#"{"statusCode":204}"#, 204, "application/json", ""),
        (
            r#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#,
            200,
            "application/json",
            "hi",
        ),
        (
            r#"{"statusCode":302,"body":{"a":1}}"#,
            302,
            "application/json",
            r#"{"a":1}"#,
        ),
    ];
    for (payload, status, content_type, body) in cases {
        let (got_status, headers, got_body) = parts(payload).await;
        assert_eq!(got_status, status, "{payload}");
        let ct = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.as_str());
        assert_eq!(ct, Some(content_type), "{payload}");
        assert_eq!(got_body, body, "{payload}");
    }
}

#[tokio::test]
async fn cookies_become_set_cookie_headers() {
    let (_, headers, _) = parts(r#"{"statusCode":200,"cookies":["a=1","b=2; Path=/"]}"#).await;
    let cookies: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cookies, ["a=1", "b=2; Path=/"]);
}

#[test]
fn url_ids_come_from_the_host() {
    for (host, id) in [
        ("abc123.lambda-url.us-east-1.localhost:8083", Some("abc123")),
        ("ABC.lambda-url.eu-west-1.on.aws", Some("abc")),
        ("127.0.0.1:8083", None),
        ("localhost", None),
    ] {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        assert_eq!(url_id_from_host(&headers).as_deref(), id, "{host}");
    }
}
