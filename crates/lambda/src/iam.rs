//! The IAM calls that Lambda and Step Functions tutorials make (create-role, put-role-policy,
//! attach-role-policy, get-role, delete-role-policy, delete-role, ...), accepted and recorded
//! in `<data>/lambda/iam.json` so scripts run as written. Nothing is enforced.
//!
//! Wire form: AWS's query protocol (`POST /` with a form body, `Action=...&Version=2010-05-08`)
//! answered in XML, errors as `<ErrorResponse><Error><Code>...`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::util::{self, xml_escape};
use crate::{Error, Lambda};

const ACTIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "DeleteRole",
    "ListRoles",
    "PutRolePolicy",
    "GetRolePolicy",
    "DeleteRolePolicy",
    "ListRolePolicies",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
];

/// Whether `action` is an IAM action Baton answers.
pub(crate) fn handles(action: &str) -> bool {
    ACTIONS.contains(&action)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Role {
    name: String,
    path: String,
    id: String,
    assume_role_policy: String,
    description: String,
    created_ms: u64,
    inline_policies: BTreeMap<String, String>,
    attached_policies: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Roles {
    roles: BTreeMap<String, Role>,
}

pub(crate) struct Iam {
    path: PathBuf,
    roles: Mutex<Roles>,
}

/// An IAM error: HTTP status, code, message.
struct IamError(StatusCode, &'static str, String);

impl Iam {
    pub(crate) fn open(path: &Path) -> Result<Iam, Error> {
        let roles = match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|err| Error::io("reading iam.json", err))?
            }
            Err(_) => Roles::default(),
        };
        Ok(Iam {
            path: path.to_owned(),
            roles: Mutex::new(roles),
        })
    }

    fn save(&self, roles: &Roles) -> Result<(), IamError> {
        let text = serde_json::to_string_pretty(roles).map_err(|err| {
            IamError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceFailure",
                err.to_string(),
            )
        })?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|err| {
                IamError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ServiceFailure",
                    err.to_string(),
                )
            })
    }
}

/// Answers one IAM query request.
pub(crate) fn handle(lambda: &Lambda, form: &[(String, String)]) -> Response {
    let param = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let action = param("Action").unwrap_or_default();
    let result = run(lambda, &action, &param);
    let request_id = util::uuid4();
    match result {
        Ok(inner) => {
            let result = if inner.is_empty() {
                String::new()
            } else {
                format!("<{action}Result>{inner}</{action}Result>")
            };
            xml(
                StatusCode::OK,
                format!(
                    "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">{result}\
                     <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
                ),
            )
        }
        Err(IamError(status, code, message)) => xml(
            status,
            format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
                 <Code>{code}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                xml_escape(&message)
            ),
        ),
    }
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
    )
        .into_response()
}

fn role_xml(lambda: &Lambda, role: &Role) -> String {
    let description = if role.description.is_empty() {
        String::new()
    } else {
        format!(
            "<Description>{}</Description>",
            xml_escape(&role.description)
        )
    };
    format!(
        "<Role><Path>{}</Path><Arn>arn:aws:iam::{}:role{}{}</Arn><RoleName>{}</RoleName>\
         <AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument>{description}<CreateDate>{}</CreateDate>\
         <RoleId>{}</RoleId><MaxSessionDuration>3600</MaxSessionDuration></Role>",
        xml_escape(&role.path),
        lambda.account(),
        xml_escape(&role.path),
        xml_escape(&role.name),
        xml_escape(&role.name),
        xml_escape(&util::url_encode(&role.assume_role_policy)),
        util::iso_timestamp(role.created_ms),
        role.id
    )
}

fn no_such_role(name: &str) -> IamError {
    IamError(
        StatusCode::NOT_FOUND,
        "NoSuchEntity",
        format!("The role with name {name} cannot be found."),
    )
}

fn run(
    lambda: &Lambda,
    action: &str,
    param: &dyn Fn(&str) -> Option<String>,
) -> Result<String, IamError> {
    let required = |name: &str| {
        param(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            IamError(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(name)),
            )
        })
    };
    let iam = &lambda.inner.iam;
    let mut roles = iam.roles.lock().unwrap_or_else(|p| p.into_inner());
    if action == "ListRoles" {
        let items: String = roles
            .roles
            .values()
            .map(|r| {
                role_xml(lambda, r)
                    .replacen("<Role>", "<member>", 1)
                    .replace("</Role>", "</member>")
            })
            .collect();
        return Ok(format!(
            "<IsTruncated>false</IsTruncated><Roles>{items}</Roles>"
        ));
    }
    let name = required("RoleName")?;
    let out = match action {
        "CreateRole" => {
            if roles.roles.contains_key(&name) {
                return Err(IamError(
                    StatusCode::CONFLICT,
                    "EntityAlreadyExists",
                    format!("Role with name {name} already exists."),
                ));
            }
            let role = Role {
                name: name.clone(),
                path: param("Path").unwrap_or_else(|| "/".into()),
                id: format!("AROA{}", util::random_alnum(17, true)),
                assume_role_policy: required("AssumeRolePolicyDocument")?,
                description: param("Description").unwrap_or_default(),
                created_ms: util::now_ms(),
                ..Role::default()
            };
            let xml = role_xml(lambda, &role);
            roles.roles.insert(name, role);
            xml
        }
        "GetRole" => role_xml(
            lambda,
            roles.roles.get(&name).ok_or_else(|| no_such_role(&name))?,
        ),
        "DeleteRole" => {
            let role = roles.roles.get(&name).ok_or_else(|| no_such_role(&name))?;
            if !role.inline_policies.is_empty() || !role.attached_policies.is_empty() {
                return Err(IamError(
                    StatusCode::CONFLICT,
                    "DeleteConflict",
                    "Cannot delete entity, must delete policies first.".into(),
                ));
            }
            roles.roles.remove(&name);
            String::new()
        }
        "PutRolePolicy" => {
            let policy = required("PolicyName")?;
            let document = required("PolicyDocument")?;
            let role = roles
                .roles
                .get_mut(&name)
                .ok_or_else(|| no_such_role(&name))?;
            role.inline_policies.insert(policy, document);
            String::new()
        }
        "GetRolePolicy" => {
            let policy = required("PolicyName")?;
            let role = roles.roles.get(&name).ok_or_else(|| no_such_role(&name))?;
            let document = role.inline_policies.get(&policy).ok_or_else(|| {
                IamError(
                    StatusCode::NOT_FOUND,
                    "NoSuchEntity",
                    format!("The role policy with name {policy} cannot be found."),
                )
            })?;
            format!(
                "<RoleName>{}</RoleName><PolicyName>{}</PolicyName><PolicyDocument>{}</PolicyDocument>",
                xml_escape(&name),
                xml_escape(&policy),
                xml_escape(&util::url_encode(document))
            )
        }
        "DeleteRolePolicy" => {
            let policy = required("PolicyName")?;
            let role = roles
                .roles
                .get_mut(&name)
                .ok_or_else(|| no_such_role(&name))?;
            if role.inline_policies.remove(&policy).is_none() {
                return Err(IamError(
                    StatusCode::NOT_FOUND,
                    "NoSuchEntity",
                    format!("The role policy with name {policy} cannot be found."),
                ));
            }
            String::new()
        }
        "ListRolePolicies" => {
            let role = roles.roles.get(&name).ok_or_else(|| no_such_role(&name))?;
            let items: String = role
                .inline_policies
                .keys()
                .map(|p| format!("<member>{}</member>", xml_escape(p)))
                .collect();
            format!("<PolicyNames>{items}</PolicyNames><IsTruncated>false</IsTruncated>")
        }
        "AttachRolePolicy" => {
            let arn = required("PolicyArn")?;
            let role = roles
                .roles
                .get_mut(&name)
                .ok_or_else(|| no_such_role(&name))?;
            if !role.attached_policies.contains(&arn) {
                role.attached_policies.push(arn);
            }
            String::new()
        }
        "DetachRolePolicy" => {
            let arn = required("PolicyArn")?;
            let role = roles
                .roles
                .get_mut(&name)
                .ok_or_else(|| no_such_role(&name))?;
            let before = role.attached_policies.len();
            role.attached_policies.retain(|a| a != &arn);
            if role.attached_policies.len() == before {
                return Err(IamError(
                    StatusCode::NOT_FOUND,
                    "NoSuchEntity",
                    format!("Policy {arn} was not found."),
                ));
            }
            String::new()
        }
        "ListAttachedRolePolicies" => {
            let role = roles.roles.get(&name).ok_or_else(|| no_such_role(&name))?;
            let items: String = role
                .attached_policies
                .iter()
                .map(|arn| {
                    let policy = arn.rsplit('/').next().unwrap_or(arn);
                    format!(
                        "<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                        xml_escape(policy),
                        xml_escape(arn)
                    )
                })
                .collect();
            format!("<AttachedPolicies>{items}</AttachedPolicies><IsTruncated>false</IsTruncated>")
        }
        _ => {
            return Err(IamError(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!("Could not find operation {action}"),
            ));
        }
    };
    iam.save(&roles)?;
    Ok(out)
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}
