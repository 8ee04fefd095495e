//! Benchmarks: selecting with an already parsed path (the interpreter's hot path), and parsing.
//! Run with `cargo bench -p baton-jsonpath`.

use baton_jsonpath::Path;
use divan::{Bencher, black_box};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

fn store() -> Value {
    json!({"store": {
        "book": [
            {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
            {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
            {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
            {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
        ],
        "bicycle": {"color": "red", "price": 19.95}
    }, "expensive": 10})
}

const PATHS: &[&str] = &[
    "$.store.book[0].title",
    "$.store.book[?(@.price < 10)].title",
    "$..price",
    "$.store.book[*].author",
];

#[divan::bench(args = PATHS)]
fn select(bencher: Bencher, text: &str) {
    let document = store();
    let path = Path::parse(text).expect("valid path");
    bencher.bench(|| path.select(black_box(&document)));
}

#[divan::bench]
fn select_ref_definite(bencher: Bencher) {
    let document = store();
    let path = Path::parse("$.store.book[0].title").expect("valid path");
    bencher.bench(|| path.select_ref(black_box(&document)).is_some());
}

#[divan::bench(args = PATHS)]
fn parse(text: &str) -> Path {
    Path::parse(black_box(text)).expect("valid path")
}
