"""/api/v1/users: the current user's profile and password, and the admin's view of every account."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import auth_required, current_claims, current_user_id
from storefront_common.errors import conflict, not_found, validation_error
from storefront_common.openapi import operation

from .. import store
from ..accounts import VENDOR, admin_user_out, change_password, current_account, user_out
from ..dependencies import deps
from ..issued_tokens import session_family
from ..models import User
from ..schemas import AdminUserOut, AdminUserPatchIn, PasswordChangeIn, ProfilePatchIn, UserListQuery, UserOut, \
    UserPageOut

blueprint = Blueprint("users", __name__, url_prefix="/api/v1/users")
ADMIN = "admin"


@blueprint.get("/me")
@auth_required()
@operation("The current user", response=UserOut)
def read_me() -> dict[str, Any]:
    return user_out(current_account())


def _apply_business_name(user: User, business_name: str | None) -> None:
    if VENDOR not in user.roles:
        raise validation_error([{"field": "business_name", "message": "Only vendors have a business name."}])
    if business_name is None:
        raise validation_error([{"field": "business_name", "message": "A vendor needs a business name."}])
    user.business_name = business_name


@blueprint.patch("/me")
@auth_required()
@operation("Update the current user's profile (only the fields sent change)", body=ProfilePatchIn,
           response=UserOut)
def update_me(body: ProfilePatchIn) -> dict[str, Any]:
    user = current_account()
    sent = body.model_fields_set
    if "business_name" in sent:
        _apply_business_name(user, body.business_name)
    for field in ("first_name", "last_name", "phone"):
        if field in sent:
            setattr(user, field, getattr(body, field))
    store.commit()
    return user_out(user)


@blueprint.put("/me/password")
@auth_required()
@operation("Change the password. A wrong current password is 403 (the token is fine, the proof is not) and "
           "counts toward the login throttle (429); the user's other sessions end", body=PasswordChangeIn,
           status=204, errors=(403, 429))
def update_my_password(body: PasswordChangeIn) -> tuple[str, int]:
    user = current_account()
    change_password(user, body.current_password, body.new_password, deps().settings,
                    keep_session=session_family(current_claims()))
    return "", 204


@blueprint.get("")
@auth_required(ADMIN)
@operation("Admin: list accounts, newest first; items are the user object plus is_active", query=UserListQuery,
           response=UserPageOut)
def list_users(query: UserListQuery) -> dict[str, Any]:
    return store.user_page(query, admin_user_out)


@blueprint.patch("/<uuid:user_id>")
@auth_required(ADMIN)
@operation("Admin: change an account's roles or deactivate/reactivate it; admins cannot demote or "
           "deactivate themselves (409)", body=AdminUserPatchIn, response=AdminUserOut, errors=(404, 409))
def update_user(user_id: uuid.UUID, body: AdminUserPatchIn) -> dict[str, Any]:
    user = store.get_user(user_id)
    if user is None:
        raise not_found("user")
    sent = body.model_fields_set
    if user.id == current_user_id():
        if "is_active" in sent and not body.is_active:
            raise conflict("You cannot deactivate your own account.")
        if "roles" in sent and ADMIN not in body.roles:
            raise conflict("You cannot remove your own admin role.")
    if "roles" in sent:
        user.set_roles(list(body.roles))
    if "is_active" in sent:
        user.is_active = body.is_active
        if not body.is_active:
            store.revoke_user_refresh_tokens(user.id)
    store.commit()
    return admin_user_out(user)
