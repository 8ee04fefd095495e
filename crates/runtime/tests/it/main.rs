//! Runtime integration tests (work in progress).
