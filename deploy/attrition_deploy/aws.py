"""Every AWS call goes through Runner: validated first (validate.py), then recorded under
--dry-run, or made with boto3.

Errors become AwsError with one line a person can act on. The region and credentials come from
boto3's usual configuration (--profile, environment, instance role), in a dry run too (the
region; the account needs credentials, and a dry run shows a placeholder without them);
AWS_ENDPOINT_URL is honoured by boto3 itself.
"""

import hashlib
import json
import re
import sys
from typing import Any

from . import validate
from .errors import UserError

DRY_RUN_ACCOUNT = "123456789012"  # stands in for your account id in --dry-run plans
READ_ONLY = ("describe_", "list_", "get_", "head_")
Request = dict[str, Any]


class AwsError(Exception):
    """One line: which call failed and why."""


class Runner:
    def __init__(self, region: str | None, dry_run: bool, profile: str | None = None, read_live: bool = False):
        """read_live: in a dry run, still make the read-only calls (describe, list) that decide the
        plan (`delete` needs them to know what it would delete); the changes are only printed."""
        import boto3
        from botocore.exceptions import BotoCoreError, ProfileNotFound

        self.dry_run = dry_run
        self.read_live = read_live
        self.plan: list[Request] = []
        self._clients: dict[str, Any] = {}
        try:
            self._session = boto3.session.Session(region_name=region, profile_name=profile)
        except ProfileNotFound:
            if not dry_run or read_live:
                raise UserError(f"AWS profile {profile!r} is not configured: see `aws configure list-profiles`, "
                                 "or leave out --profile") from None
            print(f"attrition-deploy: profile {profile!r} is not configured; a dry run needs none",
                  file=sys.stderr)
            self._session = boto3.session.Session(region_name=region)
        except BotoCoreError as error:
            raise AwsError(str(error)) from None
        self._region = self._session.region_name or ("us-east-1" if dry_run and not read_live else "")

    @property
    def region(self) -> str:
        """Asked for only when a request needs it: the local subcommands (history, approving an
        MLflow version) need no AWS configuration at all."""
        if not self._region:
            raise AwsError("no AWS region: pass --region or set AWS_DEFAULT_REGION")
        return self._region

    def call(self, service: str, operation: str, params: Request) -> Request:
        """Make (or, in a dry run, record) one call; its response, or {} in a dry run."""
        return self.tolerate(service, operation, params, ()) or {}

    def tolerate(self, service: str, operation: str, params: Request, errors: tuple[str, ...]) -> Request | None:
        """Like `call`, but an error whose code or message holds one of `errors` gives None
        (for example: it already exists, or it is not there)."""
        validate.check(service, operation, params)
        if self.dry_run and not (self.read_live and operation.startswith(READ_ONLY)):
            self.plan.append({"service": service, "operation": operation, "params": _printable(params)})
            return {}
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            response: Request = getattr(self._client(service), operation)(**params)
            return response
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            message = _one_line(error.response.get("Error", {}).get("Message", str(error)))
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
        if self.dry_run and not self.read_live:
            return None
        return self.tolerate(service, operation, params, missing)

    def account(self) -> str:
        if self.dry_run and not self.read_live:
            return DRY_RUN_ACCOUNT
        return str(self.call("sts", "get_caller_identity", {})["Account"])

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 5})
            self._clients[service] = self._session.client(service, region_name=self.region, config=config)
        return self._clients[service]


def _one_line(message: str) -> str:
    """An error message as one line: an HTML error page gives its title."""
    title = re.search(r"<title>(.*?)</title>", message, re.S | re.I)
    text = title.group(1) if title else re.sub(r"<[^>]+>", " ", message)
    return " ".join(text.split())[:500]


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
