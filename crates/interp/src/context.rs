//! context (work in progress).
