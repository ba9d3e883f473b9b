//! The moderation queue, actions and log (docs/api.md §3.15.3): moderators and admins.

use axum::extract::State;
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, Object, ObjectBuilder, Ref, Schema, Type};
use utoipa::{IntoParams, Modify, ToSchema};

use super::shared::{PageQuery, optional_name};
use crate::domain::Id;
use crate::domain::choice::Choice;
use crate::domain::moderation::{
    ACTION_REASON_MAX_CHARS, Action, ModerationAction, ReportGroup, ReportStatus, Target, TargetType, action_reason,
};
use crate::domain::page::Page;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::ModeratorUser;
use crate::http::input::{LazyBody, QueryParams, Shape};
use crate::http::openapi::{
    AuthErrors, BaseErrors, BodyErrors, NotFoundErrors, PathId, RoleErrors, choice, optional_choice, text,
};
use crate::services::ServiceError;
use crate::store::LogFilter;

fn target_type() -> Object {
    choice::<TargetType>()
}

fn optional_target_id() -> Schema {
    let empty = ObjectBuilder::new().schema_type(Type::String).enum_values(Some([""]));
    AnyOfBuilder::new().item(Ref::from_schema_name(PathId::name())).item(empty).into()
}

/// The rule the derives cannot state: which actions apply to a user and which to content
/// (`Action::applies_to`).
pub struct ActionRules;

impl Modify for ActionRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut("ActionBody") else {
            panic!("ActionBody is not an object schema")
        };
        let actions_for = |kind: TargetType| -> Vec<&str> {
            Action::ALL.iter().filter(|a| a.applies_to(kind)).map(|a| a.as_str()).collect()
        };
        let user = serde_json::json!({"required": ["targetType"], "properties": {"targetType": {"const": "user"}}});
        let then = serde_json::json!({"properties": {"action": {"enum": actions_for(TargetType::User)}}});
        let otherwise = serde_json::json!({"properties": {"action": {"enum": actions_for(TargetType::Video)}}});
        // One extension key: the extensions are a hash map, and the snapshot needs one order.
        let rule = serde_json::json!([{"if": user, "then": then, "else": otherwise}]);
        body.extensions.get_or_insert_with(Default::default).insert("allOf".into(), rule);
    }
}

fn target_type_param() -> Schema {
    optional_choice::<TargetType>()
}

fn report_status() -> Schema {
    optional_choice::<ReportStatus>()
}

fn action() -> Object {
    choice::<Action>()
}

fn reason() -> Object {
    text(false, Some(ACTION_REASON_MAX_CHARS))
}

/// `GET /moderation/reports` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[serde(rename_all = "camelCase", default)]
pub struct QueueQuery {
    /// `open` when absent or empty.
    #[param(schema_with = report_status)]
    pub status: Option<String>,
    /// Every kind when absent or empty.
    #[param(schema_with = target_type_param)]
    pub target_type: Option<String>,
    /// Page number; lenient integer parsing, 1 when absent.
    pub page: Option<String>,
    /// Page size, clamped to PAGE_LIMIT_MAX (100); 10 when absent.
    pub limit: Option<String>,
}

impl Shape for QueueQuery {}

#[utoipa::path(
    get,
    path = "/api/v1/moderation/reports",
    tag = "moderation",
    params(QueueQuery),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<ReportGroup>>),
        BaseErrors, AuthErrors, RoleErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn report_queue(
    State(state): State<AppState>,
    moderator: ModeratorUser,
    QueryParams(query): QueryParams<QueueQuery>,
) -> Result<ApiResponse<Page<ReportGroup>>, AppError> {
    let status = optional_name::<ReportStatus>(query.status.as_deref())?.unwrap_or(ReportStatus::Open);
    let kind = optional_name::<TargetType>(query.target_type.as_deref())?;
    let page =
        PageQuery { page: query.page, limit: query.limit }.page_request(state.services.config().limits.page_limit_max);
    let queue = state.services.report_queue(&moderator.0, status, kind, page).await?;
    Ok(ApiResponse::ok("Reports fetched successfully", queue))
}

/// What a moderator does, to what, and why.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ActionBody {
    #[schema(schema_with = target_type, required = true)]
    pub target_type: Option<String>,
    #[schema(value_type = PathId, required = true)]
    pub target_id: Option<String>,
    #[schema(schema_with = action, required = true)]
    pub action: Option<String>,
    /// Shown to the owner of what is acted on.
    #[schema(schema_with = reason, required = true)]
    pub reason: Option<String>,
}

impl Shape for ActionBody {}

impl ActionBody {
    /// The target, action and reason, or the first rule broken, in the order of docs/api.md §3.15.3.
    fn parse(self) -> Result<(Target, Action, String), ServiceError> {
        let kind = self
            .target_type
            .as_deref()
            .and_then(TargetType::parse)
            .ok_or_else(|| ServiceError::invalid(TargetType::invalid()))?;
        let id =
            self.target_id.as_deref().and_then(Id::parse).ok_or_else(|| ServiceError::invalid("Invalid targetId"))?;
        let action =
            self.action.as_deref().and_then(Action::parse).ok_or_else(|| ServiceError::invalid(Action::invalid()))?;
        let reason = action_reason(self.reason.as_deref()).map_err(ServiceError::invalid)?;
        if !action.applies_to(kind) {
            let message = format!("Action {} does not apply to a {}", action.as_str(), kind.as_str());
            return Err(ServiceError::invalid(message));
        }
        Ok((Target { kind, id }, action, reason))
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/moderation/actions",
    tag = "moderation",
    request_body(content((ActionBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<ModerationAction>),
        BaseErrors, AuthErrors, RoleErrors, NotFoundErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn act(
    State(state): State<AppState>,
    moderator: ModeratorUser,
    body: LazyBody,
) -> Result<ApiResponse<ModerationAction>, AppError> {
    let (target, action, reason) = body.read::<ActionBody>(&state).await?.parse()?;
    let recorded = state.services.act(&moderator.0, target, action, reason).await?;
    Ok(ApiResponse::ok("Moderation action recorded", recorded))
}

/// `GET /moderation/log` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[serde(rename_all = "camelCase", default)]
pub struct LogQuery {
    /// Every kind when absent or empty.
    #[param(schema_with = target_type_param)]
    pub target_type: Option<String>,
    /// Every target when absent or empty; otherwise 24 hex digits (400 Invalid targetId).
    #[param(schema_with = optional_target_id)]
    pub target_id: Option<String>,
    /// Page number; lenient integer parsing, 1 when absent.
    pub page: Option<String>,
    /// Page size, clamped to PAGE_LIMIT_MAX (100); 10 when absent.
    pub limit: Option<String>,
}

impl Shape for LogQuery {}

#[utoipa::path(
    get,
    path = "/api/v1/moderation/log",
    tag = "moderation",
    params(LogQuery),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<ModerationAction>>),
        BaseErrors, AuthErrors, RoleErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn moderation_log(
    State(state): State<AppState>,
    moderator: ModeratorUser,
    QueryParams(query): QueryParams<LogQuery>,
) -> Result<ApiResponse<Page<ModerationAction>>, AppError> {
    let kind = optional_name::<TargetType>(query.target_type.as_deref())?;
    let id = match query.target_id.as_deref().filter(|raw| !raw.is_empty()) {
        None => None,
        Some(raw) => Some(Id::parse(raw).ok_or_else(|| ServiceError::invalid("Invalid targetId"))?),
    };
    let page =
        PageQuery { page: query.page, limit: query.limit }.page_request(state.services.config().limits.page_limit_max);
    let log = state.services.moderation_log(&moderator.0, LogFilter { kind, id }, page).await?;
    Ok(ApiResponse::ok("Moderation log fetched successfully", log))
}
