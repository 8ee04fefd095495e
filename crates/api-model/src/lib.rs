//! The AWS Step Functions wire format: action names, request and response shapes, error names,
//! ARNs, request checks and history rendering.
//!
//! This crate knows AWS's JSON (AWS JSON 1.0 protocol: `POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Action>` and `application/x-amz-json-1.0` bodies) and
//! nothing about how executions run. The server reads a body with [`request::decode`] into a
//! shape from [`shapes`], checks it with [`validate`] and [`arn`], calls the runtime and writes a
//! response shape back; every failure is an [`ApiError`] whose [`ErrorCode`] decides the
//! `__type` and HTTP status.
//!
//! ```
//! use baton_api_model::{Action, request, shapes::StartExecutionInput};
//! let action = Action::from_target(Some("AWSStepFunctions.StartExecution")).unwrap();
//! assert_eq!(action, Action::StartExecution);
//! let input: StartExecutionInput = request::decode(br#"{"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:M"}"#).unwrap();
//! assert!(input.name.is_none());
//! let err = request::decode::<StartExecutionInput>(b"{}").unwrap_err();
//! assert_eq!(err.code.status(), 400);
//! ```
#![warn(missing_docs)]

pub mod action;
pub mod arn;
pub mod enums;
pub mod error;
pub mod history;
pub mod page;
pub mod request;
pub mod shapes;
pub mod time;
pub mod validate;

pub use action::Action;
pub use error::{ApiError, ErrorCode};
pub use time::Timestamp;
