//! io (work in progress).
