"""Separation of duties in the MLflow registry: MLflow's own basic-auth app, plus one rule.

MLflow's permissions cannot tell registering a version from approving it: both are EDIT on the
registered model. This is the basic-auth app's `authorization_function` (registry_server.py
configures it): it authenticates exactly as MLflow's own function does, then refuses, with 403
and a message naming the rule, the approver's actions to anyone without MANAGE on the registered
model (or admin):

- setting or deleting a version's `approval` or `model_card_status` tag;
- creating a version already tagged anything but PendingManualApproval;
- setting or deleting the `champion` alias.

So a data scientist (EDIT) registers versions pending approval, and only an approver (MANAGE)
approves, promotes or moves the champion. It runs inside the MLflow server's process.
"""

import json

from flask import Response, request
from mlflow.server.auth import (
    _get_model_registry_store,
    _get_role_permission_or_default,
    _role_permission_for,
    authenticate_request_basic_auth,
    store,
)
from werkzeug.datastructures import Authorization

from attrition.core import contract

APPROVER_TAGS = (contract.APPROVAL_TAG, contract.MODEL_CARD_STATUS_TAG)
PENDING = "PendingManualApproval"


def authenticate() -> Authorization | Response:
    """MLflow's basic-auth authentication, then the approver's rule."""
    found = authenticate_request_basic_auth()
    if not isinstance(found, Authorization):
        return found
    model = approver_action(request.method, request.path, _body())
    if model is None or _may_approve(str(found.username), model):
        return found
    message = (f"{found.username} may not approve, promote or move the {contract.CHAMPION_ALIAS} alias of "
               f"registered model {model!r}: that needs MANAGE on it (an approver); a data scientist's EDIT "
               f"registers versions pending approval only")
    return Response(json.dumps({"error_code": "PERMISSION_DENIED", "message": message}), status=403,
                    mimetype="application/json")


def approver_action(method: str, path: str, body: dict) -> str | None:
    """The registered model an approver's action is on, or None when the request is not one."""
    route = path.split("/2.0/mlflow/", 1)[-1] if "/2.0/mlflow/" in path else ""
    name = body.get("name")
    if not isinstance(name, str):
        return None
    if route in ("model-versions/set-tag", "model-versions/delete-tag") and body.get("key") in APPROVER_TAGS:
        return name
    moves_champion = body.get("alias") == contract.CHAMPION_ALIAS and method in ("POST", "DELETE")
    if route == "registered-models/alias" and moves_champion:
        return name
    if route == "model-versions/create":
        tags = {t.get("key"): t.get("value") for t in body.get("tags") or [] if isinstance(t, dict)}
        if tags.get(contract.APPROVAL_TAG, PENDING) != PENDING:
            return name
    return None


def _may_approve(username: str, model: str) -> bool:
    user = store.get_user(username)
    if user.is_admin:
        return True
    permission = _get_role_permission_or_default(_role_permission_for(
        username=username, resource_type="registered_model", resource_key=model, workspace_lookup_id=model,
        workspace_fetcher=_get_model_registry_store().get_registered_model, workspace_label="registered model"))
    return bool(permission.can_manage)


def _body() -> dict:
    """The request's parameters: JSON for POST, PATCH and DELETE with a body, the query otherwise."""
    if request.method == "GET" or (request.method == "DELETE" and not request.is_json):
        return dict(request.args)
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}
