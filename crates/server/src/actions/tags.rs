//! TagResource, UntagResource, ListTagsForResource.

use baton_api_model::ApiError;
use baton_api_model::arn::Arn;
use baton_api_model::error::ErrorCode;
use baton_api_model::shapes::*;

use super::{Ctx, OrApi};

/// AWS allows 50 tags per resource.
const MAX_TAGS: usize = 50;

/// Checks tag counts and lengths as AWS does.
pub(crate) fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::new(
            ErrorCode::TooManyTags,
            format!("Too many tags: a resource can have at most {MAX_TAGS} tags"),
        ));
    }
    for tag in tags {
        let key_chars = tag.key.chars().count();
        if key_chars == 0 || key_chars > 128 {
            return Err(ApiError::invalid_member(
                "tags.member.key",
                &tag.key,
                "Member must have length between 1 and 128",
            ));
        }
        if tag.value.chars().count() > 256 {
            return Err(ApiError::too_long("tags.member.value", 256));
        }
    }
    Ok(())
}

pub(crate) async fn tag(ctx: &Ctx<'_>, input: TagResourceInput) -> Result<Empty, ApiError> {
    Arn::parse(&input.resource_arn)?;
    check_tags(&input.tags)?;
    let existing = ctx.runtime.list_tags(&input.resource_arn).await.or_api()?;
    let mut keys: Vec<&str> = existing.iter().map(|t| t.key.as_str()).collect();
    for tag in &input.tags {
        if !keys.contains(&tag.key.as_str()) {
            keys.push(&tag.key);
        }
    }
    if keys.len() > MAX_TAGS {
        return Err(ApiError::new(
            ErrorCode::TooManyTags,
            format!("Too many tags: a resource can have at most {MAX_TAGS} tags"),
        ));
    }
    let tags = input
        .tags
        .into_iter()
        .map(|t| baton_store::Tag {
            key: t.key,
            value: t.value,
        })
        .collect();
    ctx.runtime
        .tag_resource(&input.resource_arn, tags)
        .await
        .or_api()?;
    Ok(Empty {})
}

pub(crate) async fn untag(ctx: &Ctx<'_>, input: UntagResourceInput) -> Result<Empty, ApiError> {
    Arn::parse(&input.resource_arn)?;
    ctx.runtime
        .untag_resource(&input.resource_arn, input.tag_keys)
        .await
        .or_api()?;
    Ok(Empty {})
}

pub(crate) async fn list(
    ctx: &Ctx<'_>,
    input: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, ApiError> {
    Arn::parse(&input.resource_arn)?;
    let tags = ctx.runtime.list_tags(&input.resource_arn).await.or_api()?;
    Ok(ListTagsForResourceOutput {
        tags: tags
            .into_iter()
            .map(|t| Tag {
                key: t.key,
                value: t.value,
            })
            .collect(),
    })
}
