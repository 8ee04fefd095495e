//! Unit tests for the date formats and form parsing.

use super::*;

#[test]
fn dates_match_known_instants() {
    // (milliseconds since the epoch, lambda, iso, http, clf)
    let cases = [
        (
            0,
            "1970-01-01T00:00:00.000+0000",
            "1970-01-01T00:00:00.000Z",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "01/Jan/1970:00:00:00 +0000",
        ),
        (
            1_583_348_638_390,
            "2020-03-04T19:03:58.390+0000",
            "2020-03-04T19:03:58.390Z",
            "Wed, 04 Mar 2020 19:03:58 GMT",
            "04/Mar/2020:19:03:58 +0000",
        ),
        (
            1_709_164_800_000,
            "2024-02-29T00:00:00.000+0000",
            "2024-02-29T00:00:00.000Z",
            "Thu, 29 Feb 2024 00:00:00 GMT",
            "29/Feb/2024:00:00:00 +0000",
        ),
    ];
    for (ms, lambda, iso, http, clf) in cases {
        assert_eq!(lambda_timestamp(ms), lambda);
        assert_eq!(iso_timestamp(ms), iso);
        assert_eq!(http_date(ms), http);
        assert_eq!(clf_date(ms), clf);
    }
}

#[test]
fn forms_decode_plus_and_percent() {
    let pairs = parse_form("Action=CreateRole&RoleName=a+b&Doc=%7B%22x%22%3A1%7D&Empty=&Flag");
    let expected = [
        ("Action", "CreateRole"),
        ("RoleName", "a b"),
        ("Doc", "{\"x\":1}"),
        ("Empty", ""),
        ("Flag", ""),
    ];
    assert_eq!(pairs.len(), expected.len());
    for ((k, v), (ek, ev)) in pairs.iter().zip(expected) {
        assert_eq!((k.as_str(), v.as_str()), (ek, ev));
    }
    assert_eq!(url_encode("{\"a\": 1}"), "%7B%22a%22%3A%201%7D");
}

#[test]
fn ids_have_the_aws_shape() {
    let id = uuid4();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    assert_ne!(uuid4(), id);
    let url_id = random_alnum(32, false);
    assert_eq!(url_id.len(), 32);
    assert!(
        url_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
}
