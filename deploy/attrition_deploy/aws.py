"""Every AWS call goes through Runner: recorded under --dry-run, made with boto3 otherwise.

Errors become AwsError with one line a person can act on. The region and credentials come from
boto3's usual configuration (profile, environment, instance role); AWS_ENDPOINT_URL is honoured
by boto3 itself.
"""

import hashlib
import json
from typing import Any

DRY_RUN_ACCOUNT = "123456789012"  # stands in for your account id in --dry-run plans
Request = dict[str, Any]


class AwsError(Exception):
    """One line: which call failed and why."""


class Runner:
    def __init__(self, region: str | None, dry_run: bool):
        self.dry_run = dry_run
        self.plan: list[Request] = []
        self._clients: dict[str, Any] = {}
        self._session: Any = None
        if dry_run:
            self.region = region or "us-east-1"
        else:
            import boto3

            self._session = boto3.session.Session(region_name=region)
            self.region = self._session.region_name
            if not self.region:
                raise AwsError("no AWS region: pass --region or set AWS_DEFAULT_REGION")

    def call(self, service: str, operation: str, params: Request) -> Request:
        """Make (or, in a dry run, record) one call; its response, or {} in a dry run."""
        return self.tolerate(service, operation, params, ()) or {}

    def tolerate(self, service: str, operation: str, params: Request, errors: tuple[str, ...]) -> Request | None:
        """Like `call`, but an error whose code or message holds one of `errors` gives None
        (for example: it already exists, or it is not there)."""
        if self.dry_run:
            self.plan.append({"service": service, "operation": operation, "params": _printable(params)})
            return {}
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            response: Request = getattr(self._client(service), operation)(**params)
            return response
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            message = error.response.get("Error", {}).get("Message", str(error))
            if code in errors or any(e in message for e in errors):
                return None
            raise AwsError(f"{service} {operation} failed: {code}: {message}") from None
        except NoCredentialsError:
            raise AwsError("no AWS credentials found: configure a profile or environment "
                           "variables, or add --dry-run to see the plan without them") from None
        except BotoCoreError as error:
            raise AwsError(f"{service} {operation} failed: {error}") from None

    def look(self, service: str, operation: str, params: Request, missing: tuple[str, ...]) -> Request | None:
        """Describe something that may not exist: None when it does not, or in a dry run (which
        cannot look)."""
        if self.dry_run:
            return None
        return self.tolerate(service, operation, params, missing)

    def account(self) -> str:
        if self.dry_run:
            return DRY_RUN_ACCOUNT
        return str(self.call("sts", "get_caller_identity", {})["Account"])

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 5})
            self._clients[service] = self._session.client(service, config=config)
        return self._clients[service]


def _printable(params: Any) -> Any:
    """Bytes in a request are shown by size and SHA-256, not dumped."""
    if isinstance(params, bytes):
        return {"bytes": len(params), "sha256": hashlib.sha256(params).hexdigest()}
    if isinstance(params, dict):
        return {k: _printable(v) for k, v in params.items()}
    if isinstance(params, list):
        return [_printable(v) for v in params]
    return params


def dump(document: Any) -> str:
    return json.dumps(document, indent=2, default=str)
