"""Each subcommand's options as a frozen, typed object: built once by parser.py, read by the
commands, never written into (what a command works out travels in its own values).

Repeated options are tuples. The shared groups are small bases: `Creates` (--tag), `Waits`
(--wait), `Networked` (the VPC), `Audited` (--audit-log), `Training` (a training job's options,
shared by train-job and tune). tests/deploy/test_parser.py keeps every class's fields equal to
its subcommand's options, so neither can gain one the other lacks.
"""

from dataclasses import dataclass
from pathlib import Path

from .plans import Autoscale, Variant

Pairs = tuple[tuple[str, str], ...]  # NAME=VALUE options, in the order given


@dataclass(frozen=True)
class Options:
    """What every subcommand takes: --region, --profile and --dry-run stand before or after it."""
    command: str
    region: str | None
    profile: str | None
    dry_run: bool


@dataclass(frozen=True)
class Creates(Options):
    tag: Pairs  # on every resource the subcommand creates


@dataclass(frozen=True)
class Waits:
    wait: bool


@dataclass(frozen=True)
class Networked:
    subnet: tuple[str, ...]
    security_group: tuple[str, ...]
    network_isolation: bool


@dataclass(frozen=True)
class Audited:
    audit_log: Path


@dataclass(frozen=True)
class Package(Creates):
    model_dir: Path
    bucket: str
    prefix: str
    kms_key: str | None


@dataclass(frozen=True)
class Role(Creates):
    name: str
    bucket: str
    prefix: str
    s3: tuple[str, ...]
    kms_key: tuple[str, ...]
    repository: str
    people: str | None


@dataclass(frozen=True)
class Training(Creates, Networked, Waits):
    image: str
    role: str
    train: str
    validation: str | None
    output: str
    name: str | None
    instance_type: str
    instance_count: int
    volume_gb: int
    max_runtime: int
    hp: Pairs
    spot: bool
    max_wait: int
    checkpoint: str | None
    volume_kms_key: str | None
    output_kms_key: str | None
    inter_container_encryption: bool


@dataclass(frozen=True)
class TrainJob(Training):
    pass


@dataclass(frozen=True)
class Tune(Training):
    strategy: str
    max_jobs: int
    max_parallel: int
    early_stopping: bool
    warm_start_from: tuple[str, ...]
    only: tuple[str, ...]


@dataclass(frozen=True)
class Register(Creates, Networked, Audited):
    name: str
    image: str | None
    model_data: str | None
    from_tuning_job: str | None
    from_mlflow: str | None
    mlflow: str | None
    bucket: str | None
    prefix: str
    role: str
    env: Pairs
    group: str | None
    approval: str
    metrics: str | None
    bias: str | None
    explainability: str | None
    manifest: Path | None
    model_card: Path | None


@dataclass(frozen=True)
class Deploy(Creates, Waits, Audited):
    endpoint: str
    variant: tuple[Variant, ...]
    shadow: Variant | None
    capture: str | None
    capture_percent: int
    kms_key: str | None
    canary: int | None
    canary_interval: int
    alarm: tuple[str, ...]
    autoscale: Autoscale | None
    async_output: str | None
    async_success_topic: str | None
    async_error_topic: str | None


@dataclass(frozen=True)
class MonitorSchedule(Creates):
    endpoint: str
    name: str | None
    image: str
    role: str
    baseline: str
    model_dir: Path | None
    reports: str
    schedule: str
    instance_type: str
    volume_gb: int
    max_runtime: int
    pipeline: str
    retrain_data: str
    champion_model_data: str | None
    events_role: str | None
    kind: str
    ground_truth: str | None
    bias_report: Path | None
    alarm: tuple[str, str, float]  # metric, CloudWatch comparison operator, threshold


@dataclass(frozen=True)
class Approve(Options, Audited):
    version: str | None
    mlflow: str | None
    package: str | None
    reject: bool
    reason: str


@dataclass(frozen=True)
class History(Options, Audited):
    group: str | None
    model: str | None
    limit: int
    json: bool
    verify: bool


@dataclass(frozen=True)
class ShadowReport(Options, Audited):
    capture: str
    production: str
    shadow: str
    endpoint: str | None
    facets: str
    min_pairs: int
    min_agreement: float
    max_group_shift: float


@dataclass(frozen=True)
class Pipeline(Creates, Waits):
    action: str
    name: str
    definition: Path | None
    role: str | None
    param: Pairs
    group: str


@dataclass(frozen=True)
class Delete(Options, Audited):
    endpoint: str


@dataclass(frozen=True)
class Transform(Creates, Waits):
    model: str
    input: str
    output: str
    name: str | None
    instance_type: str
    instance_count: int
    join: bool
    output_kms_key: str | None
    volume_kms_key: str | None


@dataclass(frozen=True)
class Invoke(Options):
    endpoint: str
    file: Path
    content_type: str | None
    accept: str
    explain: int | None
    variant: str | None


@dataclass(frozen=True)
class Describe(Options):
    endpoint: str


@dataclass(frozen=True)
class Ecr(Creates):
    repository: str
    mutable: bool
    kms_key: str | None
    keep: int


@dataclass(frozen=True)
class EcrPassword(Options):
    pass
