"""The audit trail's subcommands: `approve` (a human's decision on a model, recorded with who
and why) and `history` (every recorded decision, newest first).

Where each record lives:
    locally (MLflow)   the audit log (audit.py) and a tag audit.<event> on the model version;
                       approval is the tag `approval` and, when approved, the alias `champion`
    on AWS             the model package: ModelApprovalStatus and ApprovalDescription (who, why)
                       for approvals, CustomerMetadataProperties (model version, data SHA-256)
                       for the lineage of a registration, CreatedBy/LastModifiedBy for who;
                       SageMaker's own lineage tracking associates the pipeline's training job,
                       data and package. `history --group` reads them back.
"""

import json
import sys
from pathlib import Path

from attrition.core import contract

from . import audit, mlflow_registry, plans
from .aws import Runner, dump
from .errors import UserError
from .options import Approve, History


def approve(args: Approve, aws: Runner) -> str:
    """A reviewer's decision, recorded with who and why; says what changed (the champion before
    and after, for an MLflow version)."""
    status = "Rejected" if args.reject else "Approved"
    who = audit.actor()
    if bool(args.version) == bool(args.package):
        raise UserError("approve needs either --version NAME/VERSION (MLflow) or --package ARN (SageMaker)")
    champion: dict | None = None
    if args.package:
        described = aws.call("sagemaker", "describe_model_package", {"ModelPackageName": args.package})
        metadata = described.get("CustomerMetadataProperties") or {}
        aws.call("sagemaker", "update_model_package", plans.approval(args.package, status, args.reason, who))
        if metadata.get("model_card"):  # its card follows the decision
            aws.call("sagemaker", "update_model_card", plans.card_update(metadata["model_card"],
                                                                         plans.CARD_STATUS[status]))
        model = {"package": args.package, "model_version": metadata.get("model_version", "")}
        said = f"{status} {args.package.rsplit('/', 2)[-2]}/{args.package.rsplit('/', 1)[-1]}"
    elif args.version:  # one of the two, checked above
        who = (args.mlflow and mlflow_registry.authenticated_user(args.mlflow)) or who  # as the registry knows them
        model, champion, said, metadata = _refused_or(args, args.version, status, aws.dry_run, who)
    entry = audit.record("approved" if status == "Approved" else "rejected", actor=who,
                         trigger="attrition-deploy approve", model=model, champion=champion,
                         data=audit.metadata_hashes(metadata), metrics=audit.metric_values(metadata),
                         verdict=status, reasons=[args.reason])
    if not aws.dry_run:
        entry = audit.append(args.audit_log, entry)
        if args.version and args.mlflow:
            tag = contract.AUDIT_TAG_PREFIX + entry["event"]
            mlflow_registry.set_tag(args.mlflow, model["name"], model["version"], tag,
                                    json.dumps(entry, sort_keys=True)[:5000])
    return said


def _refused_or(args: Approve, version: str, status: str, dry_run: bool,
                who: str) -> tuple[dict, dict | None, str, dict]:
    """The MLflow decision, or, when the registry refuses it (a data scientist approving on a
    registry with separation of duties), the refusal in the audit trail before the error."""
    try:
        return _mlflow_decision(args, version, status, dry_run)
    except mlflow_registry.MlflowError as error:
        if error.status != 403:
            raise
        name, _, number = version.partition("/")
        audit.append(args.audit_log, audit.record(
            "refused", actor=who, trigger="attrition-deploy approve", model={"name": name, "version": number},
            verdict=f"{status} refused by the registry", reasons=[args.reason, str(error)]))
        raise


def _mlflow_decision(args: Approve, version: str, status: str, dry_run: bool) -> tuple[dict, dict | None, str, dict]:
    """The MLflow version's approval tag and the champion alias (approved: it moves to this version;
    rejected while champion: it is removed); a dry run only looks. Returns the model, the champion
    before, what changed in words, and the version's tags (its data and metrics)."""
    name, _, number = version.partition("/")
    if not (name and number and args.mlflow):
        raise UserError("approve --version NAME/VERSION needs --mlflow URI (or MLFLOW_TRACKING_URI)")
    found = mlflow_registry.version(args.mlflow, name, number)
    before = mlflow_registry.alias_version(args.mlflow, name, contract.CHAMPION_ALIAS)
    if status == "Approved":
        change = (f"{name} v{number} was already the champion" if before == number else
                  f"champion {name} v{before} -> v{number}" if before else f"champion {name}: none -> v{number}")
    elif before == number:
        change = f"{name} v{number} was the champion: {name} has no champion now"
    else:
        change = f"the champion stays {name} v{before}" if before else f"{name} has no champion"
    if not dry_run:
        mlflow_registry.set_tag(args.mlflow, name, number, contract.APPROVAL_TAG, status)
        if contract.MODEL_CARD_STATUS_TAG in found["tags"]:  # its card (of the run) follows the decision
            mlflow_registry.set_tag(args.mlflow, name, number, contract.MODEL_CARD_STATUS_TAG,
                                    plans.CARD_STATUS[status])
        if status == "Approved":
            mlflow_registry.set_alias(args.mlflow, name, contract.CHAMPION_ALIAS, number)
        elif before == number:
            mlflow_registry.delete_alias(args.mlflow, name, contract.CHAMPION_ALIAS)
    model = {"name": name, "version": number, "model_version": found["tags"].get("model_version", "")}
    champion = {"name": name, "version": before} if before else None
    return model, champion, f"{status} {name}/{number}: {change}", found["tags"]


def history(args: History, aws: Runner) -> str:
    if args.verify:
        return _verified(args.audit_log)
    if args.group:
        entries = _packages(args, aws)
    else:
        trail = audit.read(args.audit_log, args.model, args.limit)
        if trail.damaged:
            print(f"attrition-deploy history: {audit.damage_note(args.audit_log, trail.damaged)}", file=sys.stderr)
        entries = trail.entries
    if aws.dry_run:
        return ""
    if args.json:
        return dump(entries)
    return "\n".join(audit.line(entry) for entry in entries) or "(no records)"


def _verified(log: Path) -> str:
    """The chain checked end to end: its head to write down, or the first break (exit 2)."""
    found = audit.verify(log)
    if found.broken:
        raise UserError(f"{log}: the audit trail does not verify: {found.broken} "
                         f"({found.records} record(s) before it verify)")
    before = f", the first {found.unchained} from before the chain" if found.unchained else ""
    return (f"{log}: {found.records} record(s) verify{before}; head: record {found.records} sha256 {found.head} "
            f"(note it: a log rewritten or cut short later will not end with it)")


def _packages(args: History, aws: Runner) -> list[dict]:
    """A package group's registrations and approvals, newest first, as audit records."""
    listed = aws.call("sagemaker", "list_model_packages", {
        "ModelPackageGroupName": args.group, "SortBy": "CreationTime", "SortOrder": "Descending",
        "MaxResults": min(args.limit, 100)})
    entries = []
    for summary in listed.get("ModelPackageSummaryList", []):
        package = aws.call("sagemaker", "describe_model_package", {"ModelPackageName": summary["ModelPackageArn"]})
        metadata = package.get("CustomerMetadataProperties") or {}
        model = {"package": package["ModelPackageArn"], "version": str(package.get("ModelPackageVersion", "")),
                 "model_version": metadata.get("model_version", "")}
        status = package.get("ModelApprovalStatus", "")
        if package.get("LastModifiedTime") and status != "PendingManualApproval":
            entries.append(audit.record("approved" if status == "Approved" else "rejected",
                                        actor=_who(package.get("LastModifiedBy")), trigger="SageMaker Model Registry",
                                        model=model, data=audit.metadata_hashes(metadata),
                                        metrics=audit.metric_values(metadata), verdict=status,
                                        reasons=[package.get("ApprovalDescription", "")]) |
                           {"time": _time(package["LastModifiedTime"])})
        registered_as = metadata.get("registered_as")  # the status then, not the package's current one
        entries.append(audit.record("registered", actor=_who(package.get("CreatedBy")),
                                    trigger="SageMaker Model Registry", model=model,
                                    data=audit.metadata_hashes(metadata),
                                    metrics=audit.metric_values(metadata),
                                    verdict=registered_as or "",
                                    reasons=[] if registered_as else ["status at registration not recorded"]) |
                       {"time": _time(package.get("CreationTime"))})
    return sorted(entries, key=lambda entry: entry["time"], reverse=True)


def _who(user: dict | None) -> str:
    user = user or {}
    return str(user.get("UserProfileName") or (user.get("IamIdentity") or {}).get("Arn") or "unknown")


def _time(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "strftime") else str(value or "")
