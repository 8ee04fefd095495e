//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition, DescribeStateMachineForExecution.

use baton_api_model::arn::{Arn, Kind, Resource};
use baton_api_model::enums::{DiagnosticSeverity, IncludedData, StateMachineType};
use baton_api_model::error::ErrorCode;
use baton_api_model::shapes::*;
use baton_api_model::validate::{check_length, check_name};
use baton_api_model::{ApiError, Timestamp};
use baton_store::{MachineType, StateMachineRecord};
use serde_json::{Map, Value};

use super::{Ctx, OrApi, now_ms, page_args};

/// AWS's limit on definition size, in characters.
const MAX_DEFINITION_CHARS: usize = 1_048_576;

/// The configuration members kept in a machine's `attributes` (a JSON object text), which
/// takes part in `CreateStateMachine`'s idempotency check as on AWS.
#[derive(Default)]
struct Attributes {
    logging: Option<LoggingConfiguration>,
    tracing: Option<TracingConfiguration>,
    encryption: Option<Value>,
}

impl Attributes {
    fn parse(text: &str) -> Attributes {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
            return Attributes::default();
        };
        Attributes {
            logging: map
                .get("loggingConfiguration")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            tracing: map
                .get("tracingConfiguration")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            encryption: map.get("encryptionConfiguration").cloned(),
        }
    }

    fn to_text(&self) -> String {
        let mut map = Map::new();
        if let Some(logging) = &self.logging {
            map.insert(
                "loggingConfiguration".into(),
                serde_json::to_value(logging).unwrap_or_default(),
            );
        }
        if let Some(tracing) = &self.tracing {
            map.insert(
                "tracingConfiguration".into(),
                serde_json::to_value(tracing).unwrap_or_default(),
            );
        }
        if let Some(encryption) = &self.encryption {
            map.insert("encryptionConfiguration".into(), encryption.clone());
        }
        Value::Object(map).to_string()
    }
}

fn check_logging(logging: Option<&LoggingConfiguration>) -> Result<(), ApiError> {
    let Some(logging) = logging else {
        return Ok(());
    };
    const LEVELS: [&str; 4] = ["ALL", "ERROR", "FATAL", "OFF"];
    if !LEVELS.contains(&logging.level.as_str()) {
        return Err(ApiError::invalid_member(
            "loggingConfiguration.level",
            &logging.level,
            "Member must satisfy enum value set: [ALL, ERROR, FATAL, OFF]",
        ));
    }
    if logging.level != "OFF" && logging.destinations.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidLoggingConfiguration,
            "Invalid Logging Configuration: Must specify exactly one Log Destination.",
        ));
    }
    Ok(())
}

fn check_definition(definition: &str) -> Result<(), ApiError> {
    if definition.chars().count() > MAX_DEFINITION_CHARS {
        return Err(ApiError::too_long("definition", MAX_DEFINITION_CHARS));
    }
    Ok(())
}

fn wire_type(kind: MachineType) -> String {
    kind.as_str().to_string()
}

fn store_type(kind: StateMachineType) -> MachineType {
    match kind {
        StateMachineType::Standard => MachineType::Standard,
        StateMachineType::Express => MachineType::Express,
    }
}

fn tags(tags: Vec<Tag>) -> Result<Vec<baton_store::Tag>, ApiError> {
    super::tags::check_tags(&tags)?;
    Ok(tags
        .into_iter()
        .map(|t| baton_store::Tag {
            key: t.key,
            value: t.value,
        })
        .collect())
}

pub(crate) async fn create(
    ctx: &Ctx<'_>,
    input: CreateStateMachineInput,
) -> Result<CreateStateMachineOutput, ApiError> {
    check_name(&input.name)?;
    check_definition(&input.definition)?;
    let kind = StateMachineType::parse_opt(input.r#type.as_deref())?;
    check_logging(input.logging_configuration.as_ref())?;
    check_length(
        "versionDescription",
        input.version_description.as_deref(),
        256,
    )?;
    let attributes = Attributes {
        logging: input.logging_configuration,
        tracing: input.tracing_configuration,
        encryption: input.encryption_configuration,
    };
    let change = ctx
        .runtime
        .create_state_machine(baton_runtime::CreateStateMachine {
            name: input.name,
            definition: input.definition,
            role_arn: input.role_arn,
            kind: kind.map(store_type),
            attributes: Some(attributes.to_text()),
            tags: tags(input.tags)?,
            publish: input.publish,
            version_description: input.version_description.unwrap_or_default(),
            region: Some(ctx.region.clone()),
        })
        .await
        .or_api()?;
    Ok(CreateStateMachineOutput {
        state_machine_arn: change.machine.arn,
        creation_date: Timestamp(change.machine.created_ms),
        state_machine_version_arn: change.version_arn,
    })
}

fn describe_machine(machine: StateMachineRecord) -> DescribeStateMachineOutput {
    let attributes = Attributes::parse(&machine.attributes);
    DescribeStateMachineOutput {
        state_machine_arn: machine.arn,
        name: machine.name,
        status: Some("ACTIVE".into()),
        definition: machine.definition,
        role_arn: machine.role_arn,
        r#type: wire_type(machine.kind),
        creation_date: Timestamp(machine.created_ms),
        logging_configuration: attributes.logging.unwrap_or_default(),
        tracing_configuration: Some(attributes.tracing.unwrap_or_default()),
        label: None,
        revision_id: Some(machine.revision_id),
        description: None,
        encryption_configuration: attributes.encryption,
    }
}

pub(crate) async fn describe(
    ctx: &Ctx<'_>,
    input: DescribeStateMachineInput,
) -> Result<DescribeStateMachineOutput, ApiError> {
    IncludedData::parse_opt(input.included_data.as_deref())?;
    let arn = Arn::parse_kind(&input.state_machine_arn, Kind::StateMachine)?;
    let Resource::StateMachine { name, qualifier } = &arn.resource else {
        return Err(ApiError::invalid_arn(&input.state_machine_arn));
    };
    match qualifier {
        None => Ok(describe_machine(
            ctx.runtime
                .describe_state_machine(&input.state_machine_arn)
                .await
                .or_api()?,
        )),
        Some(qualifier) if qualifier.bytes().all(|b| b.is_ascii_digit()) => {
            let version = ctx
                .runtime
                .describe_version(&input.state_machine_arn)
                .await
                .or_api()?;
            let machine = ctx
                .runtime
                .describe_state_machine(&version.state_machine_arn)
                .await
                .or_api()?;
            let attributes = Attributes::parse(&version.attributes);
            Ok(DescribeStateMachineOutput {
                state_machine_arn: version.arn,
                name: name.clone(),
                status: Some("ACTIVE".into()),
                definition: version.definition,
                role_arn: version.role_arn,
                r#type: wire_type(machine.kind),
                creation_date: Timestamp(version.created_ms),
                logging_configuration: attributes.logging.unwrap_or_default(),
                tracing_configuration: Some(attributes.tracing.unwrap_or_default()),
                label: None,
                revision_id: Some(version.revision_id),
                description: (!version.description.is_empty()).then_some(version.description),
                encryption_configuration: attributes.encryption,
            })
        }
        Some(_) => Err(ApiError::invalid_arn(format!(
            "Resource type not valid in this context: stateMachine alias: {}",
            input.state_machine_arn
        ))),
    }
}

pub(crate) async fn update(
    ctx: &Ctx<'_>,
    input: UpdateStateMachineInput,
) -> Result<UpdateStateMachineOutput, ApiError> {
    Arn::parse_kind(&input.state_machine_arn, Kind::StateMachine)?;
    if let Some(definition) = &input.definition {
        check_definition(definition)?;
    }
    check_logging(input.logging_configuration.as_ref())?;
    check_length(
        "versionDescription",
        input.version_description.as_deref(),
        256,
    )?;
    let attributes = if input.logging_configuration.is_some()
        || input.tracing_configuration.is_some()
        || input.encryption_configuration.is_some()
    {
        let current = ctx
            .runtime
            .describe_state_machine(&input.state_machine_arn)
            .await
            .or_api()?;
        let mut attributes = Attributes::parse(&current.attributes);
        if let Some(logging) = input.logging_configuration {
            attributes.logging = Some(logging);
        }
        if let Some(tracing) = input.tracing_configuration {
            attributes.tracing = Some(tracing);
        }
        if let Some(encryption) = input.encryption_configuration {
            attributes.encryption = Some(encryption);
        }
        Some(attributes.to_text())
    } else {
        None
    };
    let change = ctx
        .runtime
        .update_state_machine(baton_runtime::UpdateStateMachine {
            arn: input.state_machine_arn,
            definition: input.definition,
            role_arn: input.role_arn,
            attributes,
            publish: input.publish,
            version_description: input.version_description.unwrap_or_default(),
        })
        .await
        .or_api()?;
    Ok(UpdateStateMachineOutput {
        update_date: Timestamp(now_ms()),
        revision_id: Some(change.machine.revision_id),
        state_machine_version_arn: change.version_arn,
    })
}

pub(crate) async fn delete(
    ctx: &Ctx<'_>,
    input: DeleteStateMachineInput,
) -> Result<Empty, ApiError> {
    Arn::parse_kind(&input.state_machine_arn, Kind::StateMachine)?;
    ctx.runtime
        .delete_state_machine(&input.state_machine_arn)
        .await
        .or_api()?;
    Ok(Empty {})
}

pub(crate) async fn list(
    ctx: &Ctx<'_>,
    input: ListStateMachinesInput,
) -> Result<ListStateMachinesOutput, ApiError> {
    let page = page_args(input.max_results, input.next_token)?;
    let listed = ctx.runtime.list_state_machines(page).await.or_api()?;
    Ok(ListStateMachinesOutput {
        state_machines: listed
            .items
            .into_iter()
            .filter(|m| super::in_region(&m.arn, &ctx.region))
            .map(|m| StateMachineListItem {
                state_machine_arn: m.arn,
                name: m.name,
                r#type: wire_type(m.kind),
                creation_date: Timestamp(m.created_ms),
            })
            .collect(),
        next_token: listed.next_token,
    })
}

pub(crate) async fn validate_definition(
    _ctx: &Ctx<'_>,
    input: ValidateStateMachineDefinitionInput,
) -> Result<ValidateStateMachineDefinitionOutput, ApiError> {
    check_definition(&input.definition)?;
    let kind = StateMachineType::parse_opt(input.r#type.as_deref())?;
    let severity = DiagnosticSeverity::parse_opt(input.severity.as_deref())?
        .unwrap_or(DiagnosticSeverity::Error);
    let limit = baton_api_model::validate::page_size(input.max_results)?;
    let options = baton_asl::validate::Options {
        machine_type: match kind {
            Some(StateMachineType::Express) => baton_asl::validate::MachineType::Express,
            _ => baton_asl::validate::MachineType::Standard,
        },
    };
    let diagnostics = baton_asl::validate::check_text(&input.definition, &options);
    let failed = diagnostics
        .iter()
        .any(|d| d.severity == baton_asl::Severity::Error);
    let selected: Vec<&baton_asl::Diagnostic> = diagnostics
        .iter()
        .filter(|d| {
            severity == DiagnosticSeverity::Warning || d.severity == baton_asl::Severity::Error
        })
        .collect();
    let truncated = selected.len() > limit;
    Ok(ValidateStateMachineDefinitionOutput {
        result: if failed { "FAIL" } else { "OK" }.into(),
        diagnostics: selected
            .into_iter()
            .take(limit)
            .map(|d| ValidationDiagnostic {
                severity: d.severity.as_str().into(),
                code: d.code.clone(),
                message: d.message.clone(),
                location: (!d.location.is_empty()).then(|| d.location.clone()),
            })
            .collect(),
        truncated,
    })
}

pub(crate) async fn describe_for_execution(
    ctx: &Ctx<'_>,
    input: DescribeStateMachineForExecutionInput,
) -> Result<DescribeStateMachineForExecutionOutput, ApiError> {
    IncludedData::parse_opt(input.included_data.as_deref())?;
    Arn::parse_kind(&input.execution_arn, Kind::Execution)?;
    let (execution, definition) = ctx
        .runtime
        .describe_state_machine_for_execution(&input.execution_arn)
        .await
        .or_api()?;
    // The machine may have been updated or deleted since: report its configuration when it
    // still exists, and the execution's own definition and role in any case.
    let machine = ctx
        .runtime
        .describe_state_machine(&execution.state_machine_arn)
        .await
        .ok();
    let name = match Arn::parse(&execution.state_machine_arn).map(|a| a.resource) {
        Ok(Resource::StateMachine { name, .. }) => name,
        _ => String::new(),
    };
    let attributes = machine
        .as_ref()
        .map(|m| Attributes::parse(&m.attributes))
        .unwrap_or_default();
    let revision_id = machine
        .as_ref()
        .filter(|m| m.definition == definition)
        .map(|m| m.revision_id.clone());
    Ok(DescribeStateMachineForExecutionOutput {
        state_machine_arn: execution.state_machine_arn,
        name,
        definition,
        role_arn: execution.role_arn,
        update_date: Timestamp(machine.map_or(execution.start_ms, |m| m.created_ms)),
        logging_configuration: attributes.logging.unwrap_or_default(),
        tracing_configuration: Some(attributes.tracing.unwrap_or_default()),
        map_run_arn: None,
        label: None,
        revision_id,
    })
}
