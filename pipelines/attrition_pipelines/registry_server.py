"""An MLflow registry with authentication and separation of duties, for a team on one machine.

    attrition-registry serve --folder DIR [--port 5000]
        MLflow's server with its basic-auth app (users and permissions in DIR/basic_auth.db, the
        registry in DIR/mlflow.db) and the approver's rule of duties.py. The admin's password comes
        from MLFLOW_AUTH_ADMIN_PASSWORD (MLflow's own variable, at least 12 characters).
    attrition-registry grant --mlflow URL --model NAME --user U --password P --role ROLE
        As the admin (MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD): the user created if
        new, the registered model created if new, and the user's permission on it set:
        data-scientist EDIT (registers versions pending approval), approver MANAGE (approves,
        promotes, moves the champion alias).

Every client then authenticates with MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD
(MLflow's own variables, which the MLflow client and attrition-deploy both read); the audit trail
records that user, as the registry authenticated it.
"""

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROLES = {"data-scientist": "EDIT", "approver": "MANAGE"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            serve(args.folder, args.port)
        else:
            print(grant(args.mlflow, args.model, args.user, args.password, args.role))
    except (OSError, ValueError) as error:
        print(f"attrition-registry {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


def serve(folder: Path, port: int) -> None:
    """Replace this process with MLflow's server, basic-auth app and duties rule on."""
    if len(os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD", "")) < 12:
        raise ValueError("set MLFLOW_AUTH_ADMIN_PASSWORD (at least 12 characters): the admin's password")
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "basic_auth.ini"
    config.write_text("[mlflow]\ndefault_permission = READ\n"
                      f"database_uri = sqlite:///{folder / 'basic_auth.db'}\nadmin_username = admin\n"
                      "authorization_function = attrition_pipelines.duties:authenticate\n")
    os.environ.update(MLFLOW_AUTH_CONFIG_PATH=str(config),
                      MLFLOW_FLASK_SERVER_SECRET_KEY=os.environ.get("MLFLOW_FLASK_SERVER_SECRET_KEY")
                      or base64.b64encode(os.urandom(24)).decode())
    os.execv(sys.executable, [sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth",
                              "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                              "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
                              "--default-artifact-root", str(folder / "artifacts")])


def grant(mlflow: str, model: str, user: str, password: str, role: str) -> str:
    """The user (created if new) given ROLES[role] on the registered model (created if new)."""
    if not _exists(mlflow, "/api/2.0/mlflow/users/get", {"username": user}):
        _call(mlflow, "POST", "/api/2.0/mlflow/users/create", {"username": user, "password": password})
    if not _exists(mlflow, "/api/2.0/mlflow/registered-models/get", {"name": model}):
        _call(mlflow, "POST", "/api/2.0/mlflow/registered-models/create",
              {"name": model, "description": "Employee attrition models (attrition-sagemaker)"})
    resource = {"username": user, "resource_type": "registered_model", "resource_id": model}
    try:
        _call(mlflow, "POST", "/api/3.0/mlflow/users/permissions/grant", resource | {"permission": ROLES[role]})
    except ValueError as error:
        if "RESOURCE_ALREADY_EXISTS" not in str(error):
            raise
        _call(mlflow, "POST", "/api/3.0/mlflow/users/permissions/revoke", resource)  # a new role replaces the old
        _call(mlflow, "POST", "/api/3.0/mlflow/users/permissions/grant", resource | {"permission": ROLES[role]})
    return f"{user}: {role} ({ROLES[role]}) on registered model {model}"


def _exists(mlflow: str, route: str, query: dict) -> bool:
    try:
        _call(mlflow, "GET", route + "?" + urllib.parse.urlencode(query), None)
    except LookupError:
        return False
    return True


def _call(mlflow: str, method: str, route: str, body: dict | None) -> dict:
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME", ""), os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
    if not (user and password):
        raise ValueError("grant needs the admin's MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD")
    headers = {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
               "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(mlflow.rstrip("/") + route, data=data, headers=headers,
                                                           method=method), timeout=30) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode("utf-8", "replace")
        if error.code == 404 or "RESOURCE_DOES_NOT_EXIST" in detail:
            raise LookupError(detail) from None
        raise ValueError(f"MLflow answered {error.code} for {route.split('?')[0]}: {detail}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attrition-registry", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run MLflow with authentication and the duties rule")
    serve_parser.add_argument("--folder", type=Path, required=True, help="the registry's and the users' databases")
    serve_parser.add_argument("--port", type=int, default=5000)
    grant_parser = commands.add_parser("grant", help="a user's role on a registered model (as the admin)")
    grant_parser.add_argument("--mlflow", required=True, help="the registry's URL")
    grant_parser.add_argument("--model", required=True, help="the registered model")
    grant_parser.add_argument("--user", required=True)
    grant_parser.add_argument("--password", required=True)
    grant_parser.add_argument("--role", required=True, choices=sorted(ROLES))
    return parser


if __name__ == "__main__":
    sys.exit(main())
