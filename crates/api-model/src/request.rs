//! Reading a request body into an action's input shape, with AWS's protocol errors.
//!
//! A body that is not a JSON object is a `SerializationException`; a member of the wrong JSON
//! type is one too; a missing required member is a `ValidationException` naming it. `null`
//! members count as absent, as AWS treats them. An empty body counts as `{}`.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};

/// Parses `body` as the input shape `T`.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|err| {
            ApiError::new(
                ErrorCode::SerializationException,
                format!("Malformed request body: {err}"),
            )
        })?
    };
    let Value::Object(mut members) = value else {
        return Err(ApiError::new(
            ErrorCode::SerializationException,
            "Start of structure or map found where not expected.",
        ));
    };
    members.retain(|_, member| !member.is_null());
    serde_json::from_value(Value::Object(members)).map_err(|err| {
        let text = err.to_string();
        match missing_field(&text) {
            Some(member) => ApiError::missing_member(member),
            None => ApiError::new(ErrorCode::SerializationException, text),
        }
    })
}

/// The member name in serde's "missing field `name`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::{ListStateMachinesInput, StartExecutionInput};

    #[test]
    fn decodes_and_classifies_errors() {
        let ok: StartExecutionInput =
            decode(br#"{"stateMachineArn":"a","input":null,"unknownMember":1}"#).unwrap();
        assert_eq!(ok.state_machine_arn, "a");
        assert_eq!(ok.input, None);
        let empty: ListStateMachinesInput = decode(b"").unwrap();
        assert_eq!(empty, ListStateMachinesInput::default());

        for (body, code, message) in [
            (
                &b"{}"[..],
                ErrorCode::ValidationException,
                "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy \
                 constraint: Member must not be null",
            ),
            (
                &br#"{"stateMachineArn":null}"#[..],
                ErrorCode::ValidationException,
                "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy \
                 constraint: Member must not be null",
            ),
            (
                &b"[1]"[..],
                ErrorCode::SerializationException,
                "Start of structure or map found where not expected.",
            ),
        ] {
            let err = decode::<StartExecutionInput>(body).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (code, message));
        }
        for body in [&b"{not json"[..], br#"{"stateMachineArn":5}"#] {
            let err = decode::<StartExecutionInput>(body).unwrap_err();
            assert_eq!(err.code, ErrorCode::SerializationException);
        }
    }
}
