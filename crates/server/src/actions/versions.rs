//! PublishStateMachineVersion, ListStateMachineVersions, DeleteStateMachineVersion and the
//! alias actions Create/Describe/Update/Delete/ListStateMachineAlias(es).

use baton_api_model::arn::{Arn, Kind, Resource};
use baton_api_model::shapes::*;
use baton_api_model::validate::{check_length, check_name};
use baton_api_model::{ApiError, Timestamp};
use baton_store::AliasRoute;

use super::{Ctx, OrApi, page_args};

/// The qualifier of a state machine ARN: `Some(true)` for a version number, `Some(false)` for
/// an alias name, `None` when unqualified.
fn qualifier(arn: &str) -> Result<Option<bool>, ApiError> {
    match Arn::parse_kind(arn, Kind::StateMachine)?.resource {
        Resource::StateMachine {
            qualifier: None, ..
        } => Ok(None),
        Resource::StateMachine {
            qualifier: Some(q), ..
        } => Ok(Some(q.bytes().all(|b| b.is_ascii_digit()))),
        _ => Err(ApiError::invalid_arn(arn)),
    }
}

fn expect(arn: &str, wanted: Option<bool>, what: &str) -> Result<(), ApiError> {
    if qualifier(arn)? != wanted {
        return Err(ApiError::invalid_arn(format!(
            "Resource type not valid in this context: {what}: {arn}"
        )));
    }
    Ok(())
}

pub(crate) async fn publish(
    ctx: &Ctx<'_>,
    input: PublishStateMachineVersionInput,
) -> Result<PublishStateMachineVersionOutput, ApiError> {
    expect(&input.state_machine_arn, None, "state machine")?;
    check_length("description", input.description.as_deref(), 256)?;
    let version = ctx
        .runtime
        .publish_version(
            &input.state_machine_arn,
            input.revision_id.as_deref(),
            input.description.as_deref().unwrap_or_default(),
        )
        .await
        .or_api()?;
    Ok(PublishStateMachineVersionOutput {
        creation_date: Timestamp(version.created_ms),
        state_machine_version_arn: version.arn,
    })
}

pub(crate) async fn list_versions(
    ctx: &Ctx<'_>,
    input: ListByStateMachineInput,
) -> Result<ListStateMachineVersionsOutput, ApiError> {
    expect(&input.state_machine_arn, None, "state machine")?;
    let page = page_args(input.max_results, input.next_token)?;
    let listed = ctx
        .runtime
        .list_versions(&input.state_machine_arn, page)
        .await
        .or_api()?;
    Ok(ListStateMachineVersionsOutput {
        state_machine_versions: listed
            .items
            .into_iter()
            .map(|v| StateMachineVersionListItem {
                state_machine_version_arn: v.arn,
                creation_date: Timestamp(v.created_ms),
            })
            .collect(),
        next_token: listed.next_token,
    })
}

pub(crate) async fn delete_version(
    ctx: &Ctx<'_>,
    input: DeleteStateMachineVersionInput,
) -> Result<Empty, ApiError> {
    expect(
        &input.state_machine_version_arn,
        Some(true),
        "state machine version",
    )?;
    ctx.runtime
        .delete_state_machine(&input.state_machine_version_arn)
        .await
        .or_api()?;
    Ok(Empty {})
}

fn routes(routes: Vec<RoutingConfigurationListItem>) -> Result<Vec<AliasRoute>, ApiError> {
    routes
        .into_iter()
        .map(|r| {
            expect(
                &r.state_machine_version_arn,
                Some(true),
                "state machine version",
            )?;
            if r.weight > 100 {
                return Err(ApiError::invalid_member(
                    "routingConfiguration.member.weight",
                    r.weight,
                    "Member must have value less than or equal to 100",
                ));
            }
            Ok(AliasRoute {
                version_arn: r.state_machine_version_arn,
                weight: r.weight,
            })
        })
        .collect()
}

fn wire_routes(routes: Vec<AliasRoute>) -> Vec<RoutingConfigurationListItem> {
    routes
        .into_iter()
        .map(|r| RoutingConfigurationListItem {
            state_machine_version_arn: r.version_arn,
            weight: r.weight,
        })
        .collect()
}

pub(crate) async fn create_alias(
    ctx: &Ctx<'_>,
    input: CreateStateMachineAliasInput,
) -> Result<CreateStateMachineAliasOutput, ApiError> {
    check_name(&input.name)?;
    if input.name.bytes().all(|b| b.is_ascii_digit()) {
        // A numeric alias would read as a version number in ARNs.
        return Err(ApiError::invalid_name(&input.name));
    }
    check_length("description", input.description.as_deref(), 256)?;
    let alias = ctx
        .runtime
        .create_alias(baton_runtime::AliasSpec {
            name: input.name,
            description: input.description.unwrap_or_default(),
            routes: routes(input.routing_configuration)?,
        })
        .await
        .or_api()?;
    Ok(CreateStateMachineAliasOutput {
        state_machine_alias_arn: alias.arn,
        creation_date: Timestamp(alias.created_ms),
    })
}

pub(crate) async fn describe_alias(
    ctx: &Ctx<'_>,
    input: StateMachineAliasArnInput,
) -> Result<DescribeStateMachineAliasOutput, ApiError> {
    expect(
        &input.state_machine_alias_arn,
        Some(false),
        "state machine alias",
    )?;
    let alias = ctx
        .runtime
        .describe_alias(&input.state_machine_alias_arn)
        .await
        .or_api()?;
    Ok(DescribeStateMachineAliasOutput {
        state_machine_alias_arn: alias.arn,
        name: alias.name,
        description: (!alias.description.is_empty()).then_some(alias.description),
        routing_configuration: wire_routes(alias.routes),
        creation_date: Timestamp(alias.created_ms),
        update_date: Some(Timestamp(alias.updated_ms)),
    })
}

pub(crate) async fn update_alias(
    ctx: &Ctx<'_>,
    input: UpdateStateMachineAliasInput,
) -> Result<UpdateStateMachineAliasOutput, ApiError> {
    expect(
        &input.state_machine_alias_arn,
        Some(false),
        "state machine alias",
    )?;
    check_length("description", input.description.as_deref(), 256)?;
    let alias = ctx
        .runtime
        .update_alias(
            &input.state_machine_alias_arn,
            baton_runtime::AliasSpec {
                name: String::new(),
                description: input.description.unwrap_or_default(),
                routes: routes(input.routing_configuration.unwrap_or_default())?,
            },
        )
        .await
        .or_api()?;
    Ok(UpdateStateMachineAliasOutput {
        update_date: Timestamp(alias.updated_ms),
    })
}

pub(crate) async fn delete_alias(
    ctx: &Ctx<'_>,
    input: StateMachineAliasArnInput,
) -> Result<Empty, ApiError> {
    expect(
        &input.state_machine_alias_arn,
        Some(false),
        "state machine alias",
    )?;
    ctx.runtime
        .delete_state_machine(&input.state_machine_alias_arn)
        .await
        .or_api()?;
    Ok(Empty {})
}

pub(crate) async fn list_aliases(
    ctx: &Ctx<'_>,
    input: ListByStateMachineInput,
) -> Result<ListStateMachineAliasesOutput, ApiError> {
    expect(&input.state_machine_arn, None, "state machine")?;
    let page = page_args(input.max_results, input.next_token)?;
    let listed = ctx
        .runtime
        .list_aliases(&input.state_machine_arn, page)
        .await
        .or_api()?;
    Ok(ListStateMachineAliasesOutput {
        state_machine_aliases: listed
            .items
            .into_iter()
            .map(|a| StateMachineAliasListItem {
                state_machine_alias_arn: a.arn,
                creation_date: Timestamp(a.created_ms),
            })
            .collect(),
        next_token: listed.next_token,
    })
}
