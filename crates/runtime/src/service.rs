//! The runtime's API: one method per Step Functions action family, with request types and
//! AWS's rules (names, ARNs, idempotency, pagination). The server maps these to the wire.

use std::time::Duration;

use base64::Engine as _;
use baton_asl::StateMachine;
use baton_interp::Event;
use baton_store::{
    ActivityRecord, AliasRecord, AliasRoute, ExecutionFilter, ExecutionRecord, ExecutionStatus,
    HistoryQuery, HistoryRecord, MachineType, Millis, Page, PageRequest, StateMachineRecord, Tag,
    TaskState, VersionRecord,
};
use sha2::{Digest, Sha256};

use crate::arn::{self, MachineRef};
use crate::codec;
use crate::driver::{Check, Delivered, entropy};
use crate::{Error, Runtime};

/// The largest input, output or task result AWS accepts: 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// The longest task token AWS accepts.
pub const MAX_TOKEN_BYTES: usize = 2048;

/// The default and largest page sizes of list actions.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// See [`DEFAULT_PAGE_SIZE`].
pub const MAX_PAGE_SIZE: usize = 1000;

/// `CreateStateMachine`.
#[derive(Debug, Clone, Default)]
pub struct CreateStateMachine {
    /// Name.
    pub name: String,
    /// Definition text.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `STANDARD` (default) or `EXPRESS`.
    pub kind: Option<MachineType>,
    /// Logging/tracing/encryption configuration as a JSON object text (default `{}`); part of
    /// the idempotency check, as on AWS.
    pub attributes: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Publish version 1 at once.
    pub publish: bool,
    /// Description of the published version.
    pub version_description: String,
    /// Region of the request (default: the configured one).
    pub region: Option<String>,
}

/// The result of creating or updating a state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineChange {
    /// The state machine now.
    pub machine: StateMachineRecord,
    /// The version published by this call, if any.
    pub version_arn: Option<String>,
}

/// `UpdateStateMachine`.
#[derive(Debug, Clone, Default)]
pub struct UpdateStateMachine {
    /// The (unqualified) ARN.
    pub arn: String,
    /// New definition.
    pub definition: Option<String>,
    /// New role.
    pub role_arn: Option<String>,
    /// New configuration JSON object text.
    pub attributes: Option<String>,
    /// Publish a version after the update.
    pub publish: bool,
    /// Description of the published version.
    pub version_description: String,
}

/// `StartExecution`.
#[derive(Debug, Clone, Default)]
pub struct StartExecution {
    /// State machine ARN, possibly qualified by a version or alias.
    pub state_machine_arn: String,
    /// Name (default: a random UUID).
    pub name: Option<String>,
    /// Input JSON text (default `{}`).
    pub input: Option<String>,
}

/// Where a list continues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageArgs {
    /// `maxResults` (0 or absent: the default).
    pub max_results: Option<usize>,
    /// `nextToken` from the previous page.
    pub next_token: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    /// The items.
    pub items: Vec<T>,
    /// `nextToken`.
    pub next_token: Option<String>,
}

/// `ListExecutions`.
#[derive(Debug, Clone, Default)]
pub struct ListExecutions {
    /// State machine ARN (a version or alias ARN lists the executions started through it).
    pub state_machine_arn: String,
    /// `statusFilter`.
    pub status: Option<ExecutionStatus>,
    /// Paging.
    pub page: PageArgs,
}

/// `GetExecutionHistory`.
#[derive(Debug, Clone, Default)]
pub struct GetHistory {
    /// The execution.
    pub execution_arn: String,
    /// `reverseOrder`.
    pub reverse: bool,
    /// Paging.
    pub page: PageArgs,
}

/// `CreateActivity`.
#[derive(Debug, Clone, Default)]
pub struct CreateActivity {
    /// Name.
    pub name: String,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Region of the request (default: the configured one).
    pub region: Option<String>,
}

/// What `GetActivityTask` hands a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTask {
    /// `taskToken`.
    pub token: String,
    /// `input` as JSON text.
    pub input: String,
}

/// `CreateStateMachineAlias` / `UpdateStateMachineAlias`.
#[derive(Debug, Clone, Default)]
pub struct AliasSpec {
    /// Alias name (create only).
    pub name: String,
    /// Description.
    pub description: String,
    /// Routes: version ARN and weight, one or two, weights adding up to 100.
    pub routes: Vec<AliasRoute>,
}

fn definition_id(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random UUID (version 4), for execution names and revision ids.
pub(crate) fn uuid() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&entropy()?[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

fn page_request(page: &PageArgs) -> Result<PageRequest, Error> {
    let limit = match page.max_results {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(n) if n > MAX_PAGE_SIZE => {
            return Err(Error::ValidationException(format!(
                "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {MAX_PAGE_SIZE}"
            )));
        }
        Some(n) => n,
    };
    let after = match &page.next_token {
        None => None,
        Some(token) => {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .map_err(|_| Error::InvalidToken(format!("Invalid Token: '{token}'")))?;
            Some(
                String::from_utf8(bytes)
                    .map_err(|_| Error::InvalidToken(format!("Invalid Token: '{token}'")))?,
            )
        }
    };
    Ok(PageRequest { after, limit })
}

fn listed<T>(page: Page<T>) -> Listed<T> {
    Listed {
        items: page.items,
        next_token: page
            .next
            .map(|cursor| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cursor)),
    }
}

/// Maps a store error on a bad cursor to `InvalidToken`.
fn cursor_error(error: baton_store::Error) -> Error {
    match error {
        baton_store::Error::Corrupt(message) if message.contains("cursor") => {
            Error::InvalidToken(message)
        }
        other => other.into(),
    }
}

fn check_role(role_arn: &str) -> Result<(), Error> {
    if !role_arn.starts_with("arn:") || role_arn.split(':').count() < 6 {
        return Err(Error::InvalidArn(format!("Invalid Arn: '{role_arn}'")));
    }
    Ok(())
}

/// Validates a definition for its machine type as AWS does (Express machines refuse
/// activities, `.sync` and `.waitForTaskToken`), then parses it.
fn parse_definition(text: &str, kind: MachineType) -> Result<StateMachine, Error> {
    let options = baton_asl::validate::Options {
        machine_type: match kind {
            MachineType::Standard => baton_asl::validate::MachineType::Standard,
            MachineType::Express => baton_asl::validate::MachineType::Express,
        },
    };
    let diagnostics = baton_asl::validate::check_text(text, &options);
    if diagnostics
        .iter()
        .any(|d| d.severity == baton_asl::Severity::Error)
    {
        return Err(Error::InvalidDefinition(
            baton_asl::validate::invalid_definition_message(&diagnostics),
        ));
    }
    StateMachine::from_text(text).map_err(|d| crate::definition_error(&d))
}

fn parse_input(text: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::InvalidExecutionInput(format!("Invalid State Machine Execution Input: '{e}'"))
    })
}

fn parse_output(text: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::InvalidOutput(format!("Invalid output: {e}")))
}

fn machine_missing(arn: &str) -> Error {
    Error::StateMachineDoesNotExist(format!("State Machine Does Not Exist: '{arn}'"))
}

fn execution_missing(arn: &str) -> Error {
    Error::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'"))
}

fn activity_missing(arn: &str) -> Error {
    Error::ActivityDoesNotExist(format!("Activity Does Not Exist: '{arn}'"))
}

impl Runtime {
    fn now(&self) -> Millis {
        self.inner().clock.now_ms()
    }

    fn region<'a>(&'a self, region: &'a Option<String>) -> &'a str {
        region.as_deref().unwrap_or(&self.inner().settings.region)
    }

    // ---------------------------------------------------------------- state machines

    /// `CreateStateMachine`. Idempotent when name, definition, type and configuration match
    /// an existing machine (role and tags are then ignored, as on AWS); otherwise
    /// `StateMachineAlreadyExists`.
    pub async fn create_state_machine(
        &self,
        request: CreateStateMachine,
    ) -> Result<StateMachineChange, Error> {
        arn::check_name(&request.name)?;
        check_role(&request.role_arn)?;
        let kind = request.kind.unwrap_or(MachineType::Standard);
        parse_definition(&request.definition, kind)?;
        let store = &self.inner().store;
        let attributes = request
            .attributes
            .clone()
            .unwrap_or_else(|| "{}".to_owned());
        let settings = &self.inner().settings;
        let machine_arn = arn::state_machine(
            self.region(&request.region),
            &settings.account,
            &request.name,
        );
        if let Some(existing) = store.get_state_machine(&machine_arn).await? {
            if existing.definition == request.definition
                && existing.kind == kind
                && existing.attributes == attributes
            {
                let version_arn = if request.publish {
                    store
                        .list_versions(&machine_arn, PageRequest::first(1))
                        .await?
                        .items
                        .into_iter()
                        .next()
                        .map(|v| v.arn)
                } else {
                    None
                };
                return Ok(StateMachineChange {
                    machine: existing,
                    version_arn,
                });
            }
            return Err(Error::StateMachineAlreadyExists(format!(
                "State Machine Already Exists: '{machine_arn}'"
            )));
        }
        let record = StateMachineRecord {
            arn: machine_arn.clone(),
            name: request.name.clone(),
            kind,
            definition: request.definition.clone(),
            role_arn: request.role_arn.clone(),
            created_ms: self.now(),
            revision_id: uuid()?,
            description: String::new(),
            attributes,
            next_version: 1,
        };
        store
            .put_definition(&definition_id(&record.definition), &record.definition)
            .await?;
        match store.create_state_machine(record.clone()).await {
            Ok(()) => {}
            Err(baton_store::Error::AlreadyExists(_)) => {
                return Err(Error::StateMachineAlreadyExists(format!(
                    "State Machine Already Exists: '{machine_arn}'"
                )));
            }
            Err(other) => return Err(other.into()),
        }
        if !request.tags.is_empty() {
            store.tag_resource(&machine_arn, request.tags).await?;
        }
        let version_arn = if request.publish {
            Some(
                self.publish_version(&machine_arn, None, &request.version_description)
                    .await?
                    .arn,
            )
        } else {
            None
        };
        let machine = store
            .get_state_machine(&machine_arn)
            .await?
            .ok_or_else(|| machine_missing(&machine_arn))?;
        Ok(StateMachineChange {
            machine,
            version_arn,
        })
    }

    /// `DescribeStateMachine` of an unqualified ARN.
    pub async fn describe_state_machine(
        &self,
        machine_arn: &str,
    ) -> Result<StateMachineRecord, Error> {
        let reference = arn::parse_machine(machine_arn)?;
        let MachineRef::Unqualified { arn } = reference else {
            return Err(Error::InvalidArn(format!("Invalid Arn: '{machine_arn}'")));
        };
        self.inner()
            .store
            .get_state_machine(&arn)
            .await?
            .ok_or_else(|| machine_missing(&arn))
    }

    /// `UpdateStateMachine`: a new revision; running executions keep theirs.
    pub async fn update_state_machine(
        &self,
        request: UpdateStateMachine,
    ) -> Result<StateMachineChange, Error> {
        let mut machine = self.describe_state_machine(&request.arn).await?;
        if request.definition.is_none()
            && request.role_arn.is_none()
            && request.attributes.is_none()
        {
            return Err(Error::ValidationException(
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified".to_owned(),
            ));
        }
        let store = &self.inner().store;
        if let Some(definition) = &request.definition {
            parse_definition(definition, machine.kind)?;
            store
                .put_definition(&definition_id(definition), definition)
                .await?;
            machine.definition = definition.clone();
        }
        if let Some(role) = &request.role_arn {
            check_role(role)?;
            machine.role_arn = role.clone();
        }
        if let Some(attributes) = &request.attributes {
            machine.attributes = attributes.clone();
        }
        machine.revision_id = uuid()?;
        self.inner().forget_state_machine_record(&machine.arn);
        let updated = store.update_state_machine(machine.clone()).await;
        self.inner().forget_state_machine_record(&machine.arn);
        updated.map_err(|e| match e {
            baton_store::Error::NotFound(_) => machine_missing(&machine.arn),
            other => other.into(),
        })?;
        let version_arn = if request.publish {
            Some(
                self.publish_version(&machine.arn, None, &request.version_description)
                    .await?
                    .arn,
            )
        } else {
            None
        };
        let machine = self.describe_state_machine(&machine.arn).await?;
        Ok(StateMachineChange {
            machine,
            version_arn,
        })
    }

    /// `ListStateMachines`.
    pub async fn list_state_machines(
        &self,
        page: PageArgs,
    ) -> Result<Listed<StateMachineRecord>, Error> {
        let request = page_request(&page)?;
        Ok(listed(
            self.inner()
                .store
                .list_state_machines(request)
                .await
                .map_err(cursor_error)?,
        ))
    }

    /// `DeleteStateMachine` (of the machine, a version, or an alias ARN). Running executions
    /// continue. Deleting something absent succeeds, as on AWS.
    pub async fn delete_state_machine(&self, machine_arn: &str) -> Result<(), Error> {
        let store = &self.inner().store;
        match arn::parse_machine(machine_arn)? {
            MachineRef::Unqualified { arn } => {
                store.delete_state_machine(&arn).await?;
                self.inner().forget_state_machine_record(&arn);
            }
            MachineRef::Version {
                machine_arn: unqualified,
                ..
            } => {
                // As on AWS, a version an alias routes to cannot be deleted.
                let mut referencing = Vec::new();
                let mut request = PageRequest::first(100);
                loop {
                    let page = store.list_aliases(&unqualified, request).await?;
                    for alias in &page.items {
                        if alias.routes.iter().any(|r| r.version_arn == machine_arn) {
                            referencing.push(alias.arn.clone());
                        }
                    }
                    match page.next {
                        Some(after) => {
                            request = PageRequest {
                                after: Some(after),
                                limit: 100,
                            }
                        }
                        None => break,
                    }
                }
                if !referencing.is_empty() {
                    return Err(Error::ConflictException(format!(
                        "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                        referencing.join(", ")
                    )));
                }
                store.delete_version(machine_arn).await?;
            }
            MachineRef::Alias { .. } => {
                store.delete_alias(machine_arn).await?;
            }
        }
        Ok(())
    }

    /// `PublishStateMachineVersion`. Publishing an unchanged revision returns the latest
    /// version; `revision_id`, when given, must be the current one (`ConflictException`).
    pub async fn publish_version(
        &self,
        machine_arn: &str,
        revision_id: Option<&str>,
        description: &str,
    ) -> Result<VersionRecord, Error> {
        let mut machine = self.describe_state_machine(machine_arn).await?;
        if let Some(expected) = revision_id
            && expected != machine.revision_id
        {
            return Err(Error::ConflictException(format!(
                "Failed to publish the State Machine version for revision {expected}. The current State Machine revision is {}.",
                machine.revision_id
            )));
        }
        let store = &self.inner().store;
        let latest = store
            .list_versions(&machine.arn, PageRequest::first(1))
            .await?
            .items
            .into_iter()
            .next();
        if let Some(latest) = latest
            && latest.revision_id == machine.revision_id
        {
            return Ok(latest);
        }
        let version = VersionRecord {
            arn: format!("{}:{}", machine.arn, machine.next_version),
            state_machine_arn: machine.arn.clone(),
            version: machine.next_version,
            definition: machine.definition.clone(),
            role_arn: machine.role_arn.clone(),
            revision_id: machine.revision_id.clone(),
            description: description.to_owned(),
            attributes: machine.attributes.clone(),
            created_ms: self.now(),
        };
        store.create_version(version.clone()).await?;
        machine.next_version += 1;
        let arn = machine.arn.clone();
        let updated = store.update_state_machine(machine).await;
        self.inner().forget_state_machine_record(&arn);
        updated?;
        Ok(version)
    }

    /// `DescribeStateMachine` of a version ARN.
    pub async fn describe_version(&self, version_arn: &str) -> Result<VersionRecord, Error> {
        let MachineRef::Version { .. } = arn::parse_machine(version_arn)? else {
            return Err(Error::InvalidArn(format!("Invalid Arn: '{version_arn}'")));
        };
        self.inner()
            .store
            .get_version(version_arn)
            .await?
            .ok_or_else(|| Error::ResourceNotFound(format!("Resource not found: '{version_arn}'")))
    }

    /// `ListStateMachineVersions`, newest first.
    pub async fn list_versions(
        &self,
        machine_arn: &str,
        page: PageArgs,
    ) -> Result<Listed<VersionRecord>, Error> {
        let machine = self.describe_state_machine(machine_arn).await?;
        let request = page_request(&page)?;
        Ok(listed(
            self.inner()
                .store
                .list_versions(&machine.arn, request)
                .await
                .map_err(cursor_error)?,
        ))
    }

    async fn check_routes(&self, routes: &[AliasRoute]) -> Result<String, Error> {
        if routes.is_empty()
            || routes.len() > 2
            || routes.iter().map(|r| r.weight).sum::<u32>() != 100
        {
            return Err(Error::ValidationException(
                "The routing configuration must have one or two versions whose weights add up to 100".to_owned(),
            ));
        }
        let mut machine = None;
        for route in routes {
            let MachineRef::Version { machine_arn, .. } = arn::parse_machine(&route.version_arn)?
            else {
                return Err(Error::InvalidArn(format!(
                    "Invalid Arn: '{}'",
                    route.version_arn
                )));
            };
            if machine.as_ref().is_some_and(|m| m != &machine_arn) {
                return Err(Error::ValidationException(
                    "All versions must belong to the same state machine".to_owned(),
                ));
            }
            self.describe_version(&route.version_arn).await?;
            machine = Some(machine_arn);
        }
        machine.ok_or_else(|| Error::ValidationException("No routes".to_owned()))
    }

    /// `CreateStateMachineAlias`.
    pub async fn create_alias(&self, spec: AliasSpec) -> Result<AliasRecord, Error> {
        arn::check_name(&spec.name)?;
        let machine_arn = self.check_routes(&spec.routes).await?;
        let alias_arn = format!("{machine_arn}:{}", spec.name);
        let store = &self.inner().store;
        if let Some(existing) = store.get_alias(&alias_arn).await? {
            if existing.routes == spec.routes && existing.description == spec.description {
                return Ok(existing);
            }
            return Err(Error::ConflictException(format!(
                "Alias already exists: '{alias_arn}'"
            )));
        }
        let now = self.now();
        let record = AliasRecord {
            arn: alias_arn,
            state_machine_arn: machine_arn,
            name: spec.name,
            description: spec.description,
            routes: spec.routes,
            created_ms: now,
            updated_ms: now,
        };
        store.put_alias(record.clone()).await?;
        Ok(record)
    }

    /// `UpdateStateMachineAlias` (empty routes or description keep the current ones).
    pub async fn update_alias(
        &self,
        alias_arn: &str,
        spec: AliasSpec,
    ) -> Result<AliasRecord, Error> {
        let mut alias = self.describe_alias(alias_arn).await?;
        if !spec.routes.is_empty() {
            let machine_arn = self.check_routes(&spec.routes).await?;
            if machine_arn != alias.state_machine_arn {
                return Err(Error::ValidationException(
                    "Versions must belong to the alias's state machine".to_owned(),
                ));
            }
            alias.routes = spec.routes;
        }
        if !spec.description.is_empty() {
            alias.description = spec.description;
        }
        alias.updated_ms = self.now();
        self.inner().store.put_alias(alias.clone()).await?;
        Ok(alias)
    }

    /// `DescribeStateMachineAlias`.
    pub async fn describe_alias(&self, alias_arn: &str) -> Result<AliasRecord, Error> {
        let MachineRef::Alias { .. } = arn::parse_machine(alias_arn)? else {
            return Err(Error::InvalidArn(format!("Invalid Arn: '{alias_arn}'")));
        };
        self.inner()
            .store
            .get_alias(alias_arn)
            .await?
            .ok_or_else(|| Error::ResourceNotFound(format!("Resource not found: '{alias_arn}'")))
    }

    /// `ListStateMachineAliases`.
    pub async fn list_aliases(
        &self,
        machine_arn: &str,
        page: PageArgs,
    ) -> Result<Listed<AliasRecord>, Error> {
        let machine = self.describe_state_machine(machine_arn).await?;
        let request = page_request(&page)?;
        Ok(listed(
            self.inner()
                .store
                .list_aliases(&machine.arn, request)
                .await
                .map_err(cursor_error)?,
        ))
    }

    // ---------------------------------------------------------------- tags

    /// `TagResource` (state machines and activities).
    pub async fn tag_resource(&self, resource_arn: &str, tags: Vec<Tag>) -> Result<(), Error> {
        self.check_taggable(resource_arn).await?;
        Ok(self.inner().store.tag_resource(resource_arn, tags).await?)
    }

    /// `UntagResource`.
    pub async fn untag_resource(&self, resource_arn: &str, keys: Vec<String>) -> Result<(), Error> {
        self.check_taggable(resource_arn).await?;
        Ok(self
            .inner()
            .store
            .untag_resource(resource_arn, keys)
            .await?)
    }

    /// `ListTagsForResource`.
    pub async fn list_tags(&self, resource_arn: &str) -> Result<Vec<Tag>, Error> {
        self.check_taggable(resource_arn).await?;
        Ok(self.inner().store.list_tags(resource_arn).await?)
    }

    async fn check_taggable(&self, resource_arn: &str) -> Result<(), Error> {
        let parsed = arn::Arn::parse(resource_arn)?;
        let store = &self.inner().store;
        let exists = match parsed.kind.as_str() {
            "stateMachine" if parsed.parts.len() == 1 => {
                store.get_state_machine(resource_arn).await?.is_some()
            }
            "activity" => store.get_activity(resource_arn).await?.is_some(),
            _ => return Err(Error::InvalidArn(format!("Invalid Arn: '{resource_arn}'"))),
        };
        if !exists {
            return Err(Error::ResourceNotFound(format!(
                "Resource not found: '{resource_arn}'"
            )));
        }
        Ok(())
    }

    // ---------------------------------------------------------------- executions

    /// `StartExecution`. Same name and same input as a running execution returns it; a
    /// different input, or a closed execution of that name, is `ExecutionAlreadyExists`.
    /// Returns the execution as its first step left it (it may have finished already).
    pub async fn start_execution(&self, request: StartExecution) -> Result<ExecutionRecord, Error> {
        let reference = arn::parse_machine(&request.state_machine_arn)?;
        let name = match request.name {
            Some(name) => {
                arn::check_name(&name)?;
                name
            }
            None => uuid()?,
        };
        let input_text = request.input.unwrap_or_else(|| "{}".to_owned());
        if input_text.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::ValidationException(format!(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
            )));
        }
        let input = parse_input(&input_text)?;
        let store = &self.inner().store;
        let machine = self
            .inner()
            .state_machine_record(reference.machine_arn())
            .await?
            .ok_or_else(|| machine_missing(&request.state_machine_arn))?;
        let (definition, role_arn, version_arn, alias_arn) = match &reference {
            MachineRef::Unqualified { .. } => (
                machine.definition.clone(),
                machine.role_arn.clone(),
                None,
                None,
            ),
            MachineRef::Version { .. } => {
                let version = store
                    .get_version(&request.state_machine_arn)
                    .await?
                    .ok_or_else(|| machine_missing(&request.state_machine_arn))?;
                (
                    version.definition,
                    version.role_arn,
                    Some(version.arn),
                    None,
                )
            }
            MachineRef::Alias { .. } => {
                let alias = store
                    .get_alias(&request.state_machine_arn)
                    .await?
                    .ok_or_else(|| machine_missing(&request.state_machine_arn))?;
                let version_arn = pick_route(&alias.routes)?;
                let version = store
                    .get_version(&version_arn)
                    .await?
                    .ok_or_else(|| machine_missing(&version_arn))?;
                (
                    version.definition,
                    version.role_arn,
                    Some(version.arn),
                    Some(alias.arn),
                )
            }
        };
        // Express executions get AWS's `express:<machine>:<name>:<id>` ARN: names need not be
        // unique, so there is no idempotency check.
        let execution_arn = match machine.kind {
            MachineType::Standard => arn::execution(&machine.arn, &name)?,
            MachineType::Express => arn::express_execution(&machine.arn, &name, &uuid()?)?,
        };
        // No lookup first: a name already taken makes the start commit fail with
        // `AlreadyExists`, and the idempotency rule is applied then (one read less per start).
        let definition_id = definition_id(&definition);
        // A definition in the parsed-machine cache was stored before it was cached.
        if !self.inner().knows_definition(&definition_id) {
            store.put_definition(&definition_id, &definition).await?;
        }
        let parsed = self
            .inner()
            .machine_from_text(&definition_id, &definition)?;
        let record = ExecutionRecord {
            arn: execution_arn.clone(),
            state_machine_arn: machine.arn.clone(),
            version_arn,
            alias_arn,
            name,
            kind: machine.kind,
            definition_id,
            role_arn,
            input: input_text.clone(),
            status: ExecutionStatus::Running,
            start_ms: self.now(),
            stop_ms: None,
            output: None,
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_ms: None,
            seq: 0,
        };
        match self.inner().start(record, parsed, input).await {
            Ok(started) => Ok(started),
            Err(Error::Store(baton_store::Error::AlreadyExists(_))) => {
                let existing = store
                    .get_execution(&execution_arn)
                    .await?
                    .ok_or_else(|| execution_missing(&execution_arn))?;
                same_execution(existing, &input_text)
            }
            Err(other) => Err(other),
        }
    }

    /// `DescribeExecution`.
    pub async fn describe_execution(&self, execution_arn: &str) -> Result<ExecutionRecord, Error> {
        arn::check_execution(execution_arn)?;
        self.inner()
            .store
            .get_execution(execution_arn)
            .await?
            .ok_or_else(|| execution_missing(execution_arn))
    }

    /// `DescribeStateMachineForExecution`: the execution and the definition it runs.
    pub async fn describe_state_machine_for_execution(
        &self,
        execution_arn: &str,
    ) -> Result<(ExecutionRecord, String), Error> {
        let execution = self.describe_execution(execution_arn).await?;
        let definition = self
            .inner()
            .store
            .get_definition(&execution.definition_id)
            .await?
            .ok_or_else(|| {
                Error::Internal(format!("definition {} is missing", execution.definition_id))
            })?;
        Ok((execution, definition))
    }

    /// Waits until the execution has finished or `timeout` passed; returns it as it is then
    /// (for `StartSyncExecution`).
    pub async fn wait_for_execution(
        &self,
        execution_arn: &str,
        timeout: Duration,
    ) -> Result<ExecutionRecord, Error> {
        let finished = self.inner().on_finish(execution_arn);
        let execution = self.describe_execution(execution_arn).await?;
        if execution.status.is_terminal() {
            return Ok(execution);
        }
        let deadline = self
            .now()
            .saturating_add(Millis::try_from(timeout.as_millis()).unwrap_or(Millis::MAX));
        if self.inner().node.is_some() {
            // The execution may move to another node (a takeover): watch the store too.
            let remaining = Duration::from_millis(
                u64::try_from(deadline.saturating_sub(self.now())).unwrap_or(0),
            );
            tokio::select! {
                _ = finished => {}
                result = self.poll_until_closed(execution_arn, remaining) => return result,
            }
        } else {
            tokio::select! {
                _ = finished => {}
                _ = self.inner().clock.sleep_until(deadline) => {}
            }
        }
        self.describe_execution(execution_arn).await
    }

    /// Reads the execution every few milliseconds (backing off to 250 ms) until it is closed
    /// or `timeout` has passed; returns it as it is then.
    async fn poll_until_closed(
        &self,
        execution_arn: &str,
        timeout: Duration,
    ) -> Result<ExecutionRecord, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut delay = Duration::from_millis(2);
        loop {
            let execution = self.describe_execution(execution_arn).await?;
            if execution.status.is_terminal() || tokio::time::Instant::now() >= deadline {
                return Ok(execution);
            }
            tokio::time::sleep(delay.min(deadline - tokio::time::Instant::now())).await;
            delay = (delay * 2).min(Duration::from_millis(250));
        }
    }

    /// `ListExecutions`, newest first.
    pub async fn list_executions(
        &self,
        request: ListExecutions,
    ) -> Result<Listed<ExecutionRecord>, Error> {
        let reference = arn::parse_machine(&request.state_machine_arn)?;
        let store = &self.inner().store;
        let Some(machine) = store.get_state_machine(reference.machine_arn()).await? else {
            return Err(machine_missing(&request.state_machine_arn));
        };
        // Express executions are not listed: AWS keeps no record of them.
        if machine.kind == MachineType::Express {
            return Err(Error::StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine".to_owned(),
            ));
        }
        let filter = ExecutionFilter {
            state_machine_arn: Some(reference.machine_arn().to_owned()),
            qualified_arn: match reference {
                MachineRef::Unqualified { .. } => None,
                _ => Some(request.state_machine_arn.clone()),
            },
            status: request.status,
        };
        let page = page_request(&request.page)?;
        Ok(listed(
            store
                .list_executions(filter, page)
                .await
                .map_err(cursor_error)?,
        ))
    }

    /// `GetExecutionHistory`. Express executions keep no history: their `express:` ARNs are
    /// refused as AWS refuses them.
    pub async fn get_execution_history(
        &self,
        request: GetHistory,
    ) -> Result<Listed<HistoryRecord>, Error> {
        if arn::check_execution(&request.execution_arn)?.kind == "express" {
            return Err(Error::InvalidArn(
                "Invalid Arn: 'Resource type not valid in this context: express'".to_owned(),
            ));
        }
        self.describe_execution(&request.execution_arn).await?;
        let page = page_request(&request.page)?;
        let after_id = match &page.after {
            None => None,
            Some(cursor) => Some(
                cursor
                    .parse::<u64>()
                    .map_err(|_| Error::InvalidToken("Invalid Token".to_owned()))?,
            ),
        };
        let query = HistoryQuery {
            after_id,
            reverse: request.reverse,
            limit: page.limit + 1,
        };
        let mut events = self
            .inner()
            .store
            .get_history(&request.execution_arn, query)
            .await?;
        let more = events.len() > page.limit;
        events.truncate(page.limit);
        let next = if more {
            events.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(listed(Page {
            items: events,
            next,
        }))
    }

    /// `StopExecution`: records `ExecutionAborted` with the error and cause. Stopping a closed
    /// execution changes nothing and returns it.
    pub async fn stop_execution(
        &self,
        execution_arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<ExecutionRecord, Error> {
        let execution = self.describe_execution(execution_arn).await?;
        if execution.status == ExecutionStatus::Running {
            let delivered = self
                .inner()
                .deliver(execution_arn, Event::Stop { error, cause }, Check::None)
                .await?;
            if delivered == Delivered::Queued {
                // Another node owns it and stops it: wait for that (a moment, normally).
                return self
                    .poll_until_closed(execution_arn, Duration::from_secs(10))
                    .await;
            }
        }
        self.describe_execution(execution_arn).await
    }

    /// `RedriveExecution`: continues a failed, aborted or timed-out Standard execution from its
    /// unsuccessful step (only the failed or aborted iterations and branches of a Map or
    /// Parallel state run again). Returns the `redriveDate`. A `client_token` used for the
    /// same execution in the last 15 minutes returns that redrive's date again.
    pub async fn redrive_execution(
        &self,
        execution_arn: &str,
        client_token: Option<&str>,
    ) -> Result<Millis, Error> {
        arn::check_execution(execution_arn)?;
        self.inner().redrive(execution_arn, client_token).await
    }

    // ---------------------------------------------------------------- callbacks

    async fn open_task(&self, token: &str) -> Result<baton_store::TaskRecord, Error> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(Error::InvalidToken(format!("Invalid Token: '{token}'")));
        }
        let task = self
            .inner()
            .store
            .get_task(token)
            .await?
            .ok_or_else(|| Error::TaskDoesNotExist("Task Does Not Exist".to_owned()))?;
        if task.state == TaskState::Closed {
            return Err(Error::TaskTimedOut("Task Timed Out".to_owned()));
        }
        Ok(task)
    }

    async fn callback(&self, task_id: u64, event: Event, execution_arn: &str) -> Result<(), Error> {
        match self
            .inner()
            .deliver(execution_arn, event, Check::TaskOpen(task_id))
            .await?
        {
            // Queued for the node that owns the execution, which applies it.
            Delivered::Committed(_) | Delivered::Queued => Ok(()),
            Delivered::Ignored | Delivered::NotRunning => {
                Err(Error::TaskTimedOut("Task Timed Out".to_owned()))
            }
        }
    }

    /// `SendTaskSuccess`.
    pub async fn send_task_success(&self, token: &str, output: &str) -> Result<(), Error> {
        let task = self.open_task(token).await?;
        if output.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::ValidationException(format!(
                "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
            )));
        }
        let output = parse_output(output)?;
        self.callback(
            task.task_id,
            Event::TaskSucceeded {
                task: task.task_id,
                output,
            },
            &task.execution_arn,
        )
        .await
    }

    /// `SendTaskFailure`.
    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), Error> {
        let task = self.open_task(token).await?;
        self.callback(
            task.task_id,
            Event::TaskFailed {
                task: task.task_id,
                error,
                cause,
            },
            &task.execution_arn,
        )
        .await
    }

    /// `SendTaskHeartbeat`.
    pub async fn send_task_heartbeat(&self, token: &str) -> Result<(), Error> {
        let task = self.open_task(token).await?;
        match self
            .inner()
            .deliver(
                &task.execution_arn,
                Event::TaskHeartbeat { task: task.task_id },
                Check::TaskOpen(task.task_id),
            )
            .await?
        {
            Delivered::Committed(_) | Delivered::Queued => Ok(()),
            Delivered::Ignored => {
                // Either nothing to reset (no HeartbeatSeconds) or the task closed meanwhile.
                match self.inner().store.get_task(token).await? {
                    Some(task) if task.state != TaskState::Closed => Ok(()),
                    _ => Err(Error::TaskTimedOut("Task Timed Out".to_owned())),
                }
            }
            Delivered::NotRunning => Err(Error::TaskTimedOut("Task Timed Out".to_owned())),
        }
    }

    // ---------------------------------------------------------------- activities

    /// `CreateActivity` (idempotent on the name).
    pub async fn create_activity(&self, request: CreateActivity) -> Result<ActivityRecord, Error> {
        arn::check_name(&request.name)?;
        let settings = &self.inner().settings;
        let activity_arn = arn::activity(
            self.region(&request.region),
            &settings.account,
            &request.name,
        );
        let store = &self.inner().store;
        if let Some(existing) = store.get_activity(&activity_arn).await? {
            return Ok(existing);
        }
        let record = ActivityRecord {
            arn: activity_arn.clone(),
            name: request.name,
            created_ms: self.now(),
        };
        match store.create_activity(record).await {
            Ok(()) | Err(baton_store::Error::AlreadyExists(_)) => {}
            Err(other) => return Err(other.into()),
        }
        if !request.tags.is_empty() {
            store.tag_resource(&activity_arn, request.tags).await?;
        }
        store
            .get_activity(&activity_arn)
            .await?
            .ok_or_else(|| activity_missing(&activity_arn))
    }

    /// `DescribeActivity`.
    pub async fn describe_activity(&self, activity_arn: &str) -> Result<ActivityRecord, Error> {
        arn::check_activity(activity_arn)?;
        self.inner()
            .store
            .get_activity(activity_arn)
            .await?
            .ok_or_else(|| activity_missing(activity_arn))
    }

    /// `ListActivities`.
    pub async fn list_activities(&self, page: PageArgs) -> Result<Listed<ActivityRecord>, Error> {
        let request = page_request(&page)?;
        Ok(listed(
            self.inner()
                .store
                .list_activities(request)
                .await
                .map_err(cursor_error)?,
        ))
    }

    /// `DeleteActivity` (absent activities succeed, as on AWS).
    pub async fn delete_activity(&self, activity_arn: &str) -> Result<(), Error> {
        arn::check_activity(activity_arn)?;
        self.inner().store.delete_activity(activity_arn).await?;
        Ok(())
    }

    /// `GetActivityTask`: the oldest waiting task of the activity, or `None` after `wait`
    /// (capped at the configured maximum, 60 s by default) with nothing to do.
    pub async fn get_activity_task(
        &self,
        activity_arn: &str,
        worker_name: Option<String>,
        wait: Duration,
    ) -> Result<Option<ActivityTask>, Error> {
        self.describe_activity(activity_arn).await?;
        let inner = self.inner();
        let wait = wait.min(inner.settings.max_activity_wait);
        let deadline = self
            .now()
            .saturating_add(Millis::try_from(wait.as_millis()).unwrap_or(Millis::MAX));
        let notify = inner.activity_notify(activity_arn);
        let mut shutdown = inner.shutdown.subscribe();
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(node) = &inner.node {
                // Any node may hand out any task: claimed once across nodes, its TaskStarted
                // queued for the execution's owner and applied here at once when that is us,
                // so the worker's answer can never overtake it.
                let worker = worker_name.clone();
                let started: baton_store::cluster::StartedEvent =
                    Box::new(move |task: &baton_store::TaskRecord| {
                        codec::encode_event(&Event::TaskStarted {
                            task: task.task_id,
                            worker_name: worker.clone(),
                        })
                    });
                let claimed = node
                    .cluster
                    .claim_activity_task(activity_arn, worker_name.as_deref(), self.now(), started)
                    .await?;
                if let Some(task) = claimed {
                    if let Err(error) = inner.drain(&task.execution_arn).await {
                        tracing::warn!(
                            execution = %task.execution_arn, %error,
                            "cannot apply the start of an activity task"
                        );
                    }
                    return Ok(Some(ActivityTask {
                        token: task.token,
                        input: task.input,
                    }));
                }
            }
            let queue = if inner.node.is_some() {
                Vec::new()
            } else {
                inner.store.activity_queue(activity_arn, 16).await?
            };
            for task in queue {
                let event = Event::TaskStarted {
                    task: task.task_id,
                    worker_name: worker_name.clone(),
                };
                let claimed = inner
                    .deliver(
                        &task.execution_arn,
                        event,
                        Check::TaskScheduled(task.token.clone()),
                    )
                    .await;
                if let Ok(Delivered::Committed(_)) = claimed {
                    return Ok(Some(ActivityTask {
                        token: task.token,
                        input: task.input,
                    }));
                }
            }
            if self.now() >= deadline || *shutdown.borrow() {
                return Ok(None);
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = inner.clock.sleep_until(deadline) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

fn same_execution(existing: ExecutionRecord, input: &str) -> Result<ExecutionRecord, Error> {
    let same_input = match (
        serde_json::from_str::<serde_json::Value>(&existing.input),
        serde_json::from_str::<serde_json::Value>(input),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => existing.input == input,
    };
    if existing.status == ExecutionStatus::Running && same_input {
        return Ok(existing);
    }
    Err(Error::ExecutionAlreadyExists(format!(
        "Execution Already Exists: '{}'",
        existing.arn
    )))
}

/// Picks a version of an alias by weight.
fn pick_route(routes: &[AliasRoute]) -> Result<String, Error> {
    let roll = u32::from(entropy()?[0]) * 100 / 256;
    let mut total = 0;
    for route in routes {
        total += route.weight;
        if roll < total {
            return Ok(route.version_arn.clone());
        }
    }
    routes
        .last()
        .map(|route| route.version_arn.clone())
        .ok_or_else(|| Error::Internal("alias without routes".to_owned()))
}
