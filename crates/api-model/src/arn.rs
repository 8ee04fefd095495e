//! Step Functions ARNs: `arn:<partition>:states:<region>:<account>:<type>:<parts>`.
//!
//! Parsing checks the shape only (prefix, service, resource type, number of parts, names);
//! whether the resource exists is the runtime's business. Every failure is AWS's `InvalidArn`.

use std::fmt;

use crate::error::ApiError;
use crate::validate::is_valid_name;

/// A parsed Step Functions ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// The region.
    pub region: String,
    /// The account id.
    pub account: String,
    /// What it names.
    pub resource: Resource,
}

/// The resource part of an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `stateMachine:<name>[:<version or alias>]`.
    StateMachine {
        /// The state machine's name.
        name: String,
        /// A version number or an alias name.
        qualifier: Option<String>,
    },
    /// `execution:<state machine>:<name>`.
    Execution {
        /// The state machine's name.
        state_machine: String,
        /// The execution's name.
        name: String,
    },
    /// `express:<state machine>:<name>:<id>`.
    Express {
        /// The state machine's name.
        state_machine: String,
        /// The execution's name.
        name: String,
        /// The run id.
        id: String,
    },
    /// `activity:<name>`.
    Activity {
        /// The activity's name.
        name: String,
    },
    /// `mapRun:<state machine>/<label>:<id>`.
    MapRun {
        /// Everything after `mapRun:`.
        path: String,
    },
}

/// The resource types an ARN can be checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `stateMachine`.
    StateMachine,
    /// `execution` or `express`.
    Execution,
    /// `activity`.
    Activity,
    /// `mapRun`.
    MapRun,
}

impl Resource {
    /// The resource type as written in the ARN.
    pub fn type_name(&self) -> &'static str {
        match self {
            Resource::StateMachine { .. } => "stateMachine",
            Resource::Execution { .. } => "execution",
            Resource::Express { .. } => "express",
            Resource::Activity { .. } => "activity",
            Resource::MapRun { .. } => "mapRun",
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Resource::StateMachine { .. } => Kind::StateMachine,
            Resource::Execution { .. } | Resource::Express { .. } => Kind::Execution,
            Resource::Activity { .. } => Kind::Activity,
            Resource::MapRun { .. } => Kind::MapRun,
        }
    }
}

impl Arn {
    /// Parses any Step Functions ARN.
    pub fn parse(text: &str) -> Result<Arn, ApiError> {
        let bad_prefix = || ApiError::invalid_arn(format!("Invalid ARN prefix: {text}"));
        let mut parts = text.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("states"), Some(region), Some(account), Some(rest)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad_prefix());
        };
        if !partition.starts_with("aws") || region.is_empty() || !is_account(account) {
            return Err(bad_prefix());
        }
        let fields: Vec<&str> = rest.split(':').collect();
        let bad_resource = || ApiError::invalid_arn(format!("Invalid ARN resource: {text}"));
        let name = |field: &str| {
            if is_valid_name(field) {
                Ok(field.to_string())
            } else {
                Err(bad_resource())
            }
        };
        let resource = match fields.as_slice() {
            ["stateMachine", machine] => Resource::StateMachine {
                name: name(machine)?,
                qualifier: None,
            },
            ["stateMachine", machine, qualifier] => Resource::StateMachine {
                name: name(machine)?,
                qualifier: Some(name(qualifier)?),
            },
            ["execution", machine, execution] => Resource::Execution {
                state_machine: name(machine)?,
                name: name(execution)?,
            },
            ["express", machine, execution, id] => Resource::Express {
                state_machine: name(machine)?,
                name: name(execution)?,
                id: name(id)?,
            },
            ["activity", activity] => Resource::Activity {
                name: name(activity)?,
            },
            ["mapRun", ..] if fields.len() >= 3 => Resource::MapRun {
                path: fields[1..].join(":"),
            },
            [kind, ..]
                if ["stateMachine", "execution", "express", "activity", "mapRun"]
                    .contains(kind) =>
            {
                return Err(bad_resource());
            }
            [kind, ..] => {
                return Err(ApiError::invalid_arn(format!(
                    "Resource type not valid in this context: {kind}"
                )));
            }
            [] => return Err(bad_resource()),
        };
        Ok(Arn {
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource,
        })
    }

    /// Parses an ARN and checks that it names a resource of `kind`.
    pub fn parse_kind(text: &str, kind: Kind) -> Result<Arn, ApiError> {
        let arn = Arn::parse(text)?;
        if arn.resource.kind() != kind {
            return Err(ApiError::invalid_arn(format!(
                "Resource type not valid in this context: {}",
                arn.resource.type_name()
            )));
        }
        Ok(arn)
    }

    /// A state machine ARN.
    pub fn state_machine(region: &str, account: &str, name: &str) -> String {
        format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
    }

    /// An execution ARN.
    pub fn execution(region: &str, account: &str, machine: &str, name: &str) -> String {
        format!("arn:aws:states:{region}:{account}:execution:{machine}:{name}")
    }

    /// An express execution ARN.
    pub fn express(region: &str, account: &str, machine: &str, name: &str, id: &str) -> String {
        format!("arn:aws:states:{region}:{account}:express:{machine}:{name}:{id}")
    }

    /// An activity ARN.
    pub fn activity(region: &str, account: &str, name: &str) -> String {
        format!("arn:aws:states:{region}:{account}:activity:{name}")
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Arn {
            partition,
            region,
            account,
            resource,
        } = self;
        write!(f, "arn:{partition}:states:{region}:{account}:")?;
        match resource {
            Resource::StateMachine { name, qualifier } => {
                write!(f, "stateMachine:{name}")?;
                if let Some(qualifier) = qualifier {
                    write!(f, ":{qualifier}")?;
                }
                Ok(())
            }
            Resource::Execution {
                state_machine,
                name,
            } => write!(f, "execution:{state_machine}:{name}"),
            Resource::Express {
                state_machine,
                name,
                id,
            } => write!(f, "express:{state_machine}:{name}:{id}"),
            Resource::Activity { name } => write!(f, "activity:{name}"),
            Resource::MapRun { path } => write!(f, "mapRun:{path}"),
        }
    }
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn parses_and_prints_every_kind() {
        for text in [
            "arn:aws:states:us-east-1:000000000000:stateMachine:Machine",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:Machine:7",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:Machine:prod",
            "arn:aws:states:us-east-1:000000000000:execution:Machine:run-1",
            "arn:aws:states:us-east-1:000000000000:execution:m.a_c-h:r.u_n-(1)",
            "arn:aws:states:us-east-1:000000000000:express:Machine:run:5e8f",
            "arn:aws:states:us-east-1:000000000000:activity:work",
            "arn:aws:states:us-east-1:000000000000:mapRun:Machine/label:5e8f",
            "arn:aws-cn:states:cn-north-1:000000000000:activity:work",
        ] {
            let arn = Arn::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(arn.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed() {
        for (text, message) in [
            ("foo", "Invalid Arn: 'Invalid ARN prefix: foo'"),
            (
                "arn:aws:lambda:us-east-1:000000000000:function:f",
                "Invalid Arn: 'Invalid ARN prefix: arn:aws:lambda:us-east-1:000000000000:function:f'",
            ),
            (
                "arn:aws:states:us-east-1:0000:stateMachine:M",
                "Invalid Arn: 'Invalid ARN prefix: arn:aws:states:us-east-1:0000:stateMachine:M'",
            ),
            (
                "arn:aws:states:us-east-1:000000000000:stateMachine:",
                "Invalid Arn: 'Invalid ARN resource: arn:aws:states:us-east-1:000000000000:stateMachine:'",
            ),
            (
                "arn:aws:states:us-east-1:000000000000:execution:M",
                "Invalid Arn: 'Invalid ARN resource: arn:aws:states:us-east-1:000000000000:execution:M'",
            ),
            (
                "arn:aws:states:us-east-1:000000000000:widget:M",
                "Invalid Arn: 'Resource type not valid in this context: widget'",
            ),
        ] {
            let err = Arn::parse(text).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArn);
            assert_eq!(err.message, message);
        }
    }

    #[test]
    fn checks_kind() {
        let machine = "arn:aws:states:us-east-1:000000000000:stateMachine:M";
        assert!(Arn::parse_kind(machine, Kind::StateMachine).is_ok());
        let err = Arn::parse_kind(machine, Kind::Execution).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid Arn: 'Resource type not valid in this context: stateMachine'"
        );
        let express = "arn:aws:states:us-east-1:000000000000:express:M:n:id";
        assert!(Arn::parse_kind(express, Kind::Execution).is_ok());
    }
}
