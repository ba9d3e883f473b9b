//! Roles (docs/api.md §3.15.1): who moderates, who gives roles, and the one check of both.

use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::user::{Identity, Role, RoleChange, RoleGrant};
use crate::store::Store;

/// A caller whose role was checked: only [`Services::staff`] makes one, so a rule that takes it
/// cannot run for a caller who was not.
#[derive(Clone, Copy, Debug)]
pub struct Staff(Identity);

impl Staff {
    pub fn identity(&self) -> &Identity {
        &self.0
    }
}

impl Services {
    /// The caller of `access_token` when their role includes `required`: 401 as for any login
    /// first, then 403 with the role's message. The role is read with the caller on every request,
    /// so a new role applies from the next one.
    pub async fn staff(&self, access_token: Option<&str>, required: Role) -> Result<Staff, ServiceError> {
        let caller = self.caller(access_token).await?;
        if caller.role.includes(required) {
            Ok(Staff(caller))
        } else {
            Err(ServiceError::forbidden(required.required_message()))
        }
    }

    /// `PATCH /admin/users/{userId}/role`, by an admin.
    pub async fn grant_role(&self, admin: &Staff, user: Id, role: Role) -> Result<RoleGrant, ServiceError> {
        if !admin.0.role.includes(Role::Admin) {
            return Err(ServiceError::forbidden(Role::Admin.required_message()));
        }
        set_role(&self.store, user, role).await
    }
}

/// `videotube admin grant <username> <role>`, run on the server machine (how the first admin is
/// made): on the store alone, beside a running server or without one.
pub async fn grant_role_on_server(store: &Store, username: &str, role: Role) -> Result<RoleGrant, ServiceError> {
    let user = store.users.by_username(&super::users::normalise(username)).await?;
    let user = user.ok_or_else(|| ServiceError::not_found("User not found"))?;
    set_role(store, user.user.id, role).await
}

async fn set_role(store: &Store, user: Id, role: Role) -> Result<RoleGrant, ServiceError> {
    match store.users.set_role(user, role).await? {
        Some(RoleChange::Granted(grant)) => Ok(grant),
        Some(RoleChange::LastAdmin) => Err(ServiceError::conflict("At least one admin must remain")),
        None => Err(ServiceError::not_found("User not found")),
    }
}
