//! Tests of ARN and name handling.
