//! Table tests for Baton's JSONata seam: Step Functions functions, ECMAScript regexes,
//! limits, result conversion and error codes.
//!
//! Each row is `(expression, input JSON, expected)`, where expected is the result as JSON
//! text, `undefined`, or `!CODE` for an error with that code.

use serde_json::Value;

use super::*;

/// A fixed entropy source: the same seed gives the same `$random()`/`$uuid()`.
fn entropy() -> impl FnMut() -> u64 {
    let mut state = 7u64;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        state
    }
}

fn run(expr: &str, input: &str, options: &Options) -> Result<Option<Value>, Error> {
    let input: Value = serde_json::from_str(input).expect("test input is JSON");
    let bindings = Bindings {
        vars: vec![(
            "states".to_owned(),
            serde_json::json!({ "input": input.clone() }),
        )],
    };
    Expression::compile(expr)?.evaluate_with(Some(&input), &bindings, options, &mut entropy())
}

fn check_table(rows: &[(&str, &str, &str)], options: &Options) {
    let mut failures = Vec::new();
    for (expr, input, expected) in rows {
        let got = run(expr, input, options);
        let ok = match (expected.strip_prefix('!'), &got) {
            (Some(code), Err(e)) => e.code == code,
            (Some(_), Ok(_)) => false,
            (None, Ok(None)) => *expected == "undefined",
            (None, Ok(Some(value))) => {
                // Compare as text: integers must print without a fraction.
                value.to_string().as_str() == *expected
            }
            (None, Err(_)) => false,
        };
        if !ok {
            failures.push(format!(
                "{expr}  on {input}: expected {expected}, got {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn step_functions_functions() {
    check_table(
        &[
            // $partition, as recorded on AWS (conformance intrinsic_functions).
            ("$partition([0, 1, 2, 3], 3)", "{}", "[[0,1,2],[3]]"),
            ("$partition([0], 4)", "{}", "[[0]]"),
            (
                "$partition($states.input.a, 2)",
                r#"{"a":[1,2,3,4]}"#,
                "[[1,2],[3,4]]",
            ),
            ("$partition([1,2], 0)", "{}", "!D3031"),
            ("$partition([1,2], 1.5)", "{}", "!D3030"),
            ("$partition([1,2], 'x')", "{}", "!T0410"),
            ("$partition(nothing, 2)", "{}", "undefined"),
            ("$partition([1])", "{}", "!T0410"),
            ("$range(1, 2, 3, 4)", "{}", "!T0410"),
            // $range, inclusive of end; a single number is a one-item sequence.
            ("$range(0, 9, 3)", "{}", "[0,3,6,9]"),
            ("$range(0, 10, 3)", "{}", "[0,3,6,9]"),
            ("$range(1, 9, 9)", "{}", "1"),
            ("$range(5, 1, -2)", "{}", "[5,3,1]"),
            ("$range(1, 5, 0)", "{}", "!D3032"),
            ("$range(0, 100000000, 1)", "{}", "!D2014"),
            // $hash: lowercase hex digests.
            (
                "$hash('input data', 'SHA-1')",
                "{}",
                r#""aaff4a450a104cd177d28d18d74485e8cae074b7""#,
            ),
            (
                "$hash('', 'MD5')",
                "{}",
                r#""d41d8cd98f00b204e9800998ecf8427e""#,
            ),
            (
                "$hash('abc', 'SHA-256')",
                "{}",
                r#""ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad""#,
            ),
            ("$length($hash('abc', 'SHA-384'))", "{}", "96"),
            ("$length($hash('abc', 'SHA-512'))", "{}", "128"),
            ("$hash('abc', 'SHA-3')", "{}", "!D3033"),
            ("$hash(1, 'MD5')", "{}", "!T0410"),
            // $parse, as recorded on AWS.
            ("$parse('-0')", "{}", "0"),
            ("$parse('1.1')", "{}", "1.1"),
            ("$parse('true')", "{}", "true"),
            (r#"$parse('"HelloWorld"')"#, "{}", r#""HelloWorld""#),
            (r#"$parse('{"a":[1,{"b":2}]}').a[1].b"#, "{}", "2"),
            ("$parse('{nope')", "{}", "!D3034"),
            // $random: in [0, 1); seeded is repeatable.
            ("$random() >= 0 and $random() < 1", "{}", "true"),
            ("$random(42) = $random(42)", "{}", "true"),
            ("$random(42) = $random(43)", "{}", "false"),
            ("$random('x')", "{}", "!T0410"),
            // $uuid: version 4 layout.
            (
                "$contains($uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)",
                "{}",
                "true",
            ),
            ("$uuid() = $uuid()", "{}", "false"),
            // $eval is removed, as on AWS.
            ("$eval('1 + 1')", "{}", "!T1006"),
            // $shuffle keeps the items.
            ("$sort($shuffle([3, 1, 2]))", "{}", "[1,2,3]"),
        ],
        &Options::default(),
    );
}

#[test]
fn regexes_are_ecmascript() {
    check_table(
        &[
            // Lookbehind and backreferences: not in Rust's regex crate.
            (
                r"$match('price: 42', /(?<=price: )\d+/).match",
                "{}",
                r#""42""#,
            ),
            (r"$contains('abcabc', /(abc)\1/)", "{}", "true"),
            (
                r"$replace('aa bb cd', /(\w)\1/, '<$1>')",
                "{}",
                r#""<a> <b> cd""#,
            ),
            (r"$split('a1b22c', /\d+/)", "{}", r#"["a","b","c"]"#),
            ("$match('ABC', /b/i).index", "{}", "1"),
            // Named groups and lookahead.
            (
                r"$match('2024-05', /(?<y>\d{4})-(?=\d)/).groups",
                "{}",
                r#"["2024"]"#,
            ),
            ("$contains('x', /(/)", "{}", "!SyntaxError"),
            ("$contains('x', /a)", "{}", "!S0302"),
        ],
        &Options::default(),
    );
}

#[test]
fn results_keep_integers_and_reject_functions() {
    check_table(
        &[
            ("$states.input.order_id", r#"{"order_id": 12}"#, "12"),
            ("1 + 1", "{}", "2"),
            ("10 / 4", "{}", "2.5"),
            ("$sum([1.5, 2.5])", "{}", "4"),
            ("{'a': 1, 'b': [1, 2.0]}", "{}", r#"{"a":1,"b":[1,2]}"#),
            ("1e21 * 10", "{}", "1e+22"),
            ("0.1 + 0.2", "{}", "0.30000000000000004"),
            ("nothing", "{}", "undefined"),
            ("{'a': nothing, 'b': 1}", "{}", r#"{"b":1}"#),
            ("function($x) { $x }", "{}", "!BATON_UNSUPPORTED_RESULT"),
            ("{'f': $uppercase}", "{}", "!BATON_UNSUPPORTED_RESULT"),
            ("/regex/", "{}", "!BATON_UNSUPPORTED_RESULT"),
        ],
        &Options::default(),
    );
}

#[test]
fn errors_carry_reference_codes() {
    check_table(
        &[
            ("1 +", "{}", "!S0207"),
            ("'a' + 1", "{}", "!T2001"),
            ("$undefinedFunction()", "{}", "!T1006"),
            ("$uppercase(1)", "{}", "!T0410"),
            ("/* open", "{}", "!S0106"),
        ],
        &Options::default(),
    );
    let error = run("'a' + 1", "{}", &Options::default()).unwrap_err();
    assert_eq!(
        error.message,
        "The left side of the + operator must evaluate to a number"
    );
}

#[test]
fn limits_stop_runaway_expressions() {
    let tight = Options {
        limits: Limits {
            max_depth: 200,
            max_steps: 100_000,
            max_sequence_length: 1_000,
            max_string_length: 10_000,
            max_result_depth: 50,
        },
        now_millis: None,
    };
    check_table(
        &[
            // Non-tail recursion: the depth limit.
            (
                "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(1000))",
                "{}",
                "!U1001",
            ),
            // Tail recursion forever: the step budget.
            ("($f := function() { $f() }; $f())", "{}", "!U1001"),
            // A long loop: the step budget.
            (
                "$reduce([1..900], function($a, $b) { $a + $b })",
                "{}",
                "405450",
            ),
            ("$count([1..1000].($ * 2))", "{}", "1000"),
            ("$count([1..2000].($ * 2))", "{}", "!D2015"),
            // Doubling an array: the sequence length.
            (
                "$reduce([1..30], function($a, $b) { $append($a, $a) }, [1])",
                "{}",
                "!D2015",
            ),
            // Building huge strings: the string length.
            (
                "$reduce([1..30], function($a, $b) { $a & $a }, 'x')",
                "{}",
                "!D2016",
            ),
            ("$length($pad('x', 10000))", "{}", "10000"),
            ("$pad('x', 10001)", "{}", "!D2016"),
            ("$pad('x', 1e300)", "{}", "!D2016"),
            ("$join([1..200].$pad('x', 100))", "{}", "!D2016"),
            (
                "$length($replace($join([1..500].('aaaaaaaaaa')), 'a', 'bb'))",
                "{}",
                "10000",
            ),
            (
                "$replace($join([1..500].('aaaaaaaaaa')), 'a', 'bbb')",
                "{}",
                "!D2016",
            ),
            (
                "$replace($join([1..500].('aaaaaaaaaa')), /a/, 'bbb')",
                "{}",
                "!D2016",
            ),
            ("$string([1..1000].$pad('x', 50))", "{}", "!D2016"),
            // Deep results: the result depth.
            (
                "$reduce([1..3], function($a, $b) { {'x': $a} }, {})",
                "{}",
                r#"{"x":{"x":{"x":{}}}}"#,
            ),
            (
                "$reduce([1..60], function($a, $b) { {'x': $a} }, {})",
                "{}",
                "!D2017",
            ),
        ],
        &tight,
    );
    // The defaults stop the same runaways. (The default step budget, which takes about a
    // second of a release build to use up, is exercised by the fuzz target's replays.)
    check_table(
        &[
            (
                "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))",
                "{}",
                "!U1001",
            ),
            (
                "$reduce([1..40], function($a, $b) { $append($a, $a) }, [1])",
                "{}",
                "!D2015",
            ),
            (
                "$reduce([1..60], function($a, $b) { $a & $a }, 'x')",
                "{}",
                "!D2016",
            ),
            ("$pad('x', 1e15)", "{}", "!D2016"),
            (
                "$reduce([1..100000], function($a, $b) { {'x': $a} }, {})",
                "{}",
                "!D2017",
            ),
        ],
        &Options::default(),
    );
}

#[test]
fn clock_comes_from_the_caller() {
    let options = Options {
        now_millis: Some(1_795_237_541_006),
        ..Options::default()
    };
    check_table(
        &[
            ("$now()", "{}", r#""2026-11-21T05:05:41.006Z""#),
            ("$millis()", "{}", "1795237541006"),
            ("$now('[Y0001]-[M01]-[D01]')", "{}", r#""2026-11-21""#),
        ],
        &options,
    );
}

#[test]
fn without_a_callers_instant_the_engine_reads_the_clock() {
    check_table(
        &[
            ("$now() > '2000'", "{}", "true"),
            ("$now('[Y0001]') > '2000'", "{}", "true"),
            ("$millis() > 946684800000", "{}", "true"),
            ("$now(1)", "{}", "!T0410"),
        ],
        &Options::default(),
    );
}

#[test]
fn undefined_input_has_no_context() {
    let expression = Expression::compile("$").unwrap();
    let result = expression.evaluate_with(
        None,
        &Bindings::default(),
        &Options::default(),
        &mut entropy(),
    );
    assert_eq!(result, Ok(None));
}

#[test]
fn expression_is_shareable_across_threads() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<Expression>();
    let expression = Expression::compile("$states.input.n * 2").unwrap();
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let expression = expression.clone();
            std::thread::spawn(move || {
                let bindings = Bindings {
                    vars: vec![(
                        "states".to_owned(),
                        serde_json::json!({ "input": { "n": n } }),
                    )],
                };
                expression
                    .evaluate(&Value::Null, &bindings, &mut || 0)
                    .unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results, [0, 2, 4, 6].map(|n| Some(serde_json::json!(n))));
}

#[test]
fn entropy_is_drawn_only_when_needed() {
    let mut calls = 0;
    let mut counting = || {
        calls += 1;
        5
    };
    let plain = Expression::compile("1 + 1").unwrap();
    plain
        .evaluate(&Value::Null, &Bindings::default(), &mut counting)
        .unwrap();
    let random = Expression::compile("[$random(), $random(), $uuid()]").unwrap();
    random
        .evaluate(&Value::Null, &Bindings::default(), &mut counting)
        .unwrap();
    assert_eq!(calls, 1);
}

#[test]
fn prepared_data_serves_several_expressions() {
    let input = serde_json::json!({ "items": [{ "p": 1.5 }, { "p": 20 }], "n": 2 });
    let bindings = Bindings {
        vars: vec![("states".to_owned(), serde_json::json!({ "input": input }))],
    };
    let mut prepared = Prepared::new(None, &bindings);
    let replaced = serde_json::json!({ "items": [{ "p": 3 }] });
    let options = Options::default();
    let cases = [
        ("$states.input.items[p > 10]", r#"{"p":20}"#),
        ("$states.input.items", r#"[{"p":1.5},{"p":20}]"#),
        ("$states.input.items.{'q': p}", r#"[{"q":1.5},{"q":20}]"#),
        ("$states.input", r#"{"items":[{"p":1.5},{"p":20}],"n":2}"#),
    ];
    for (expr, expected) in cases {
        let got = Expression::compile(expr)
            .unwrap()
            .evaluate_prepared(&prepared, &options, &mut entropy())
            .unwrap()
            .unwrap();
        assert_eq!(got.to_string(), expected, "{expr}");
    }
    prepared.bind("states", &replaced);
    let got = Expression::compile("$states.items")
        .unwrap()
        .evaluate_prepared(&prepared, &options, &mut entropy())
        .unwrap();
    // An array from the input stays an array (as in jsonata-js).
    assert_eq!(got.map(|v| v.to_string()).as_deref(), Some(r#"[{"p":3}]"#));
}

#[test]
fn numbers_from_the_input_print_as_javascript_does() {
    // Through `Prepared`, where unchanged input is converted back by cloning it...
    let input = serde_json::json!({ "a": 1.0, "b": [1.50, 2], "c": [1, 2] });
    let bindings = Bindings {
        vars: vec![("states".to_owned(), serde_json::json!({ "input": input }))],
    };
    let prepared = Prepared::new(None, &bindings);
    let got = Expression::compile("$states.input")
        .unwrap()
        .evaluate_prepared(&prepared, &Options::default(), &mut entropy())
        .unwrap()
        .unwrap();
    assert_eq!(got.to_string(), r#"{"a":1,"b":[1.5,2],"c":[1,2]}"#);
    // ... and one-shot.
    check_table(
        &[
            (
                "$states.input",
                r#"{"a": 1.0, "b": [1.50, 2]}"#,
                r#"{"a":1,"b":[1.5,2]}"#,
            ),
            ("$states.input.b", r#"{"b": [1e2, -0]}"#, "[100,0]"),
            (
                "$states.input",
                r#"{"big": 12345678901234567890}"#,
                r#"{"big":12345678901234567000}"#,
            ),
            (
                "$states.input",
                r#"{"ok": [1, 2.5, -3, "x"]}"#,
                r#"{"ok":[1,2.5,-3,"x"]}"#,
            ),
        ],
        &Options::default(),
    );
}
