//! Step Functions ARNs and resource names: building them, taking them apart, and AWS's rules
//! for names.

use crate::Error;

/// A parsed `arn:<partition>:states:<region>:<account>:<type>:<rest>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    /// Partition, e.g. `aws`.
    pub partition: String,
    /// Region.
    pub region: String,
    /// Account id.
    pub account: String,
    /// Resource type: `stateMachine`, `execution`, `activity`, `express`, `mapRun`.
    pub kind: String,
    /// The `:`-separated parts after the type.
    pub parts: Vec<String>,
}

impl Arn {
    /// Parses a Step Functions ARN; [`Error::InvalidArn`] if it is not one.
    pub fn parse(text: &str) -> Result<Arn, Error> {
        let invalid = || Error::InvalidArn(format!("Invalid Arn: '{text}'"));
        let mut fields = text.split(':');
        let (Some("arn"), Some(partition), Some("states"), Some(region), Some(account), Some(kind)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(invalid());
        };
        let parts: Vec<String> = fields.map(str::to_owned).collect();
        if partition.is_empty() || region.is_empty() || account.is_empty() || parts.is_empty() {
            return Err(invalid());
        }
        if parts.iter().any(String::is_empty) {
            return Err(invalid());
        }
        Ok(Arn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            kind: kind.to_owned(),
            parts,
        })
    }

    fn prefix(&self) -> String {
        format!(
            "arn:{}:states:{}:{}",
            self.partition, self.region, self.account
        )
    }
}

/// What a state machine ARN points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MachineRef {
    /// The state machine itself.
    Unqualified {
        /// The unqualified ARN.
        arn: String,
    },
    /// A published version.
    Version {
        /// The unqualified ARN.
        machine_arn: String,
        /// The version number.
        version: u64,
    },
    /// An alias.
    Alias {
        /// The unqualified ARN.
        machine_arn: String,
        /// The alias name.
        name: String,
    },
}

impl MachineRef {
    /// The unqualified state machine ARN.
    pub fn machine_arn(&self) -> &str {
        match self {
            MachineRef::Unqualified { arn } => arn,
            MachineRef::Version { machine_arn, .. } | MachineRef::Alias { machine_arn, .. } => {
                machine_arn
            }
        }
    }
}

/// Parses a state machine ARN, possibly qualified by a version number or alias name.
pub fn parse_machine(text: &str) -> Result<MachineRef, Error> {
    let arn = Arn::parse(text)?;
    if arn.kind != "stateMachine" || arn.parts.len() > 2 {
        return Err(Error::InvalidArn(format!("Invalid Arn: '{text}'")));
    }
    let machine_arn = format!("{}:stateMachine:{}", arn.prefix(), arn.parts[0]);
    Ok(match arn.parts.get(1) {
        None => MachineRef::Unqualified { arn: machine_arn },
        Some(qualifier) if qualifier.bytes().all(|b| b.is_ascii_digit()) => {
            let version = qualifier
                .parse()
                .map_err(|_| Error::InvalidArn(format!("Invalid Arn: '{text}'")))?;
            MachineRef::Version {
                machine_arn,
                version,
            }
        }
        Some(name) => MachineRef::Alias {
            machine_arn,
            name: name.clone(),
        },
    })
}

/// Checks an execution ARN's shape: `execution:<machine>:<name>`, or
/// `express:<machine>:<name>:<id>` for Express executions.
pub fn check_execution(text: &str) -> Result<Arn, Error> {
    let arn = Arn::parse(text)?;
    let standard = arn.kind == "execution" && arn.parts.len() == 2;
    let express = arn.kind == "express" && arn.parts.len() == 3;
    if !standard && !express {
        return Err(Error::InvalidArn(format!("Invalid Arn: '{text}'")));
    }
    Ok(arn)
}

/// Checks an activity ARN's shape.
pub fn check_activity(text: &str) -> Result<Arn, Error> {
    let arn = Arn::parse(text)?;
    if arn.kind != "activity" || arn.parts.len() != 1 {
        return Err(Error::InvalidArn(format!("Invalid Arn: '{text}'")));
    }
    Ok(arn)
}

/// `arn:aws:states:<region>:<account>:stateMachine:<name>`.
pub fn state_machine(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
}

/// `arn:aws:states:<region>:<account>:activity:<name>`.
pub fn activity(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:activity:{name}")
}

/// The execution ARN for an execution `name` of the (unqualified) state machine ARN.
pub fn execution(machine_arn: &str, name: &str) -> Result<String, Error> {
    let arn = Arn::parse(machine_arn)?;
    Ok(format!(
        "{}:execution:{}:{name}",
        arn.prefix(),
        arn.parts[0]
    ))
}

/// The ARN of an Express execution: `express:<machine>:<name>:<id>`, as AWS shapes it.
pub fn express_execution(machine_arn: &str, name: &str, id: &str) -> Result<String, Error> {
    let arn = Arn::parse(machine_arn)?;
    Ok(format!(
        "{}:express:{}:{name}:{id}",
        arn.prefix(),
        arn.parts[0]
    ))
}

/// AWS's rule for state machine, execution, activity and alias names: 1 to 80 characters, no
/// whitespace, brackets, wildcards, special or control characters.
pub fn check_name(name: &str) -> Result<(), Error> {
    let length = name.chars().count();
    let bad = |c: char| {
        c.is_whitespace()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || matches!(c as u32, 0x00..=0x1f | 0x7f..=0x9f)
    };
    if length == 0 || length > 80 || name.chars().any(bad) {
        return Err(Error::InvalidName(format!("Invalid Name: '{name}'")));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
