//! Reports (docs/api.md §3.15.2): a logged-in user reports a video, comment, tweet or user.

use axum::extract::State;
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, Schema};
use utoipa::{Modify, ToSchema};

use crate::domain::Id;
use crate::domain::choice::Choice;
use crate::domain::moderation::{DETAILS_MAX_CHARS, Grounds, Report, ReportReason, Target, TargetType};
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::input::{LazyBody, Shape};
use crate::http::openapi::{
    AuthErrors, BaseErrors, BodyErrors, ConflictErrors, NotFoundErrors, PathId, choice, non_blank_pattern, text,
};
use crate::services::ServiceError;

/// What is reported, and why.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ReportBody {
    #[schema(schema_with = target_type, required = true)]
    pub target_type: Option<String>,
    #[schema(value_type = PathId, required = true)]
    pub target_id: Option<String>,
    #[schema(schema_with = reason, required = true)]
    pub reason: Option<String>,
    /// Required when `reason` is `other`; trimmed, at most 1000 characters.
    #[schema(schema_with = details)]
    pub details: Option<String>,
}

impl Shape for ReportBody {}

impl ReportBody {
    /// The target and grounds, or the first rule broken, in the order of docs/api.md §3.15.2.
    fn parse(self) -> Result<(Target, Grounds), ServiceError> {
        let kind = self
            .target_type
            .as_deref()
            .and_then(TargetType::parse)
            .ok_or_else(|| ServiceError::invalid(TargetType::invalid()))?;
        let id =
            self.target_id.as_deref().and_then(Id::parse).ok_or_else(|| ServiceError::invalid("Invalid targetId"))?;
        let reason = self
            .reason
            .as_deref()
            .and_then(ReportReason::parse)
            .ok_or_else(|| ServiceError::invalid(ReportReason::invalid()))?;
        let grounds = Grounds::new(reason, self.details.as_deref()).map_err(ServiceError::invalid)?;
        Ok((Target { kind, id }, grounds))
    }
}

fn target_type() -> Object {
    choice::<TargetType>()
}

fn reason() -> Object {
    choice::<ReportReason>()
}

fn details() -> Object {
    let mut details = text(true, Some(DETAILS_MAX_CHARS));
    details.description = Some("Trimmed; required when reason is other; at most 1000 characters.".to_owned());
    details.min_length = None;
    details.pattern = None;
    details
}

/// The rule the derive cannot state: `details` (not blank) is required when `reason` is `other`.
pub struct ReportRules;

impl Modify for ReportRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut("ReportBody") else {
            panic!("ReportBody is not an object schema")
        };
        let other = serde_json::json!({"required": ["reason"], "properties": {"reason": {"const": "other"}}});
        let details = serde_json::json!({"type": "string", "pattern": non_blank_pattern()});
        let then = serde_json::json!({"required": ["details"], "properties": {"details": details}});
        // One extension key: the extensions are a hash map, and the snapshot needs one order.
        let rule = serde_json::json!([{"if": other, "then": then}]);
        body.extensions.get_or_insert_with(Default::default).insert("allOf".into(), rule);
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "moderation",
    request_body(content((ReportBody = "application/json"))),
    responses(
        (status = 201, description = "Success", body = Envelope<Report>),
        BaseErrors, AuthErrors, NotFoundErrors, ConflictErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<Report>, AppError> {
    let (target, grounds) = body.read::<ReportBody>(&state).await?.parse()?;
    let report = state.services.report(&caller.0, target, grounds).await?;
    Ok(ApiResponse::created("Report submitted successfully", report))
}
