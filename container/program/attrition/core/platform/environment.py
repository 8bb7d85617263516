"""Every path and environment variable the container reads, in one place.

SageMaker mounts everything under /opt/ml. SAGEMAKER_BASE_DIR moves that root, so the
same code runs on a laptop or in tests against a temporary folder. Nothing here is read
at import time: call the functions when the value is needed. Every variable is read by
`setting`, which checks its type and range and names the variable when it is wrong.
"""

import errno
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contract import ANALYSIS_TYPES, CONSTRAINTS_FILE, FALSE_VALUES, STATISTICS_FILE, TRUE_VALUES, Thresholds
from .errors import UserError
from .logs import escape
from .mediatypes import RESPONSE_TYPES

Environ = Mapping[str, str]
DEFAULT_BASE_DIR = "/opt/ml"
MONITOR_DEFAULTS = Thresholds()
TRAIN_CHANNELS = ("train", "training")
VALIDATION_CHANNEL = "validation"
TRUE = TRUE_VALUES
FALSE = (*FALSE_VALUES, "")  # set but empty


class SettingError(UserError):
    """An environment variable holds a value of the wrong type or out of range."""


@dataclass(frozen=True)
class Paths:
    """The /opt/ml layout, rooted at `base`."""

    base: Path

    @property
    def config_dir(self) -> Path:
        return self.base / "input" / "config"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def input_data_config_file(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resource_config_file(self) -> Path:
        return self.config_dir / "resourceconfig.json"

    @property
    def data_dir(self) -> Path:
        return self.base / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def checkpoint_dir(self) -> Path:
        """Where SageMaker's CheckpointConfig puts (and restores) checkpoints."""
        return self.base / "checkpoints"

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def processing_dir(self) -> Path:
        return self.base / "processing"

    def channel_dir(self, name: str) -> Path:
        return self.data_dir / name

    def channel_pipe(self, name: str) -> Path:
        """Pipe mode's FIFO of a channel's first pass (SageMaker names them <channel>_<epoch>)."""
        return self.data_dir / f"{name}_0"

    def write_failure(self, message: str) -> str:
        """Write the one-line reason SageMaker shows for a failed job (its first 1024 characters)."""
        text = escape(message.strip())[:1000]
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            self.failure_file.write_text(text + "\n")
        except OSError as error:
            print(f"could not write {self.failure_file}: {error}", file=sys.stderr)
        return text


def os_error_message(error: OSError) -> str:
    """One line a person can act on, for the file errors that are theirs to fix."""
    where = f" {error.filename}" if error.filename else ""
    if error.errno in (errno.EACCES, errno.EPERM):
        return (f"cannot use{where}: {error.strerror}. The container runs as uid {os.getuid()}: make the files "
                "under /opt/ml readable (and the output folders writable) by it, or run it with --user")
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write{where}: {error.strerror}. Free disk space, or give the job a larger volume"
    if error.errno == errno.EROFS:
        return f"cannot write{where}: {error.strerror}. Mount the output folders writable"
    return f"{error.filename or 'a file'}: {error.strerror}"


USER_OS_ERRORS = (errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.ENOENT, errno.EISDIR)


def paths(environ: Environ = os.environ) -> Paths:
    return Paths(Path(environ.get("SAGEMAKER_BASE_DIR", DEFAULT_BASE_DIR)))


def pythonpath_with(folder: Path, environ: Environ = os.environ) -> str:
    """PYTHONPATH for a child process (gunicorn) that must import from `folder` too."""
    return os.pathsep.join(filter(None, [str(folder), environ.get("PYTHONPATH")]))


def read_json_file(path: Path, default: Any) -> Any:
    """Read an optional SageMaker config file; a missing or empty file gives `default`."""
    if not path.is_file() or path.stat().st_size == 0:
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except ValueError as error:
        raise UserError(f"{path.name} is not valid JSON: {error}") from None
    except RecursionError:
        raise UserError(f"{path.name} is nested too deeply to be a SageMaker config file") from None


def setting(environ: Environ, name: str, kind: type, default: Any,
            low: float | None = None, high: float | None = None, choices: tuple = ()) -> Any:
    """The value of one environment variable, typed and checked; unset or blank gives `default`."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if kind is bool:
        if raw.lower() not in TRUE + FALSE:
            raise SettingError(f"{name}={raw!r} must be true or false")
        return raw.lower() in TRUE
    try:
        value = kind(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
    if kind is float and value != value:  # NaN passes every range check
        raise SettingError(f"{name}={raw!r} is not a number")
    if low is not None and high is not None and not low <= value <= high:
        raise SettingError(f"{name}={raw!r} is outside {low}..{high}")
    if choices and value not in choices:
        raise SettingError(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class ServingSettings:
    """Serving knobs, each from one environment variable (documented in docs/serving.md)."""

    port: int
    workers: int
    timeout: int
    max_payload_mb: float
    default_accept: str
    predict_threads: int
    access_log: bool

    @property
    def max_payload_bytes(self) -> int:
        return int(self.max_payload_mb * 1024 * 1024)


def serving_settings(environ: Environ = os.environ) -> ServingSettings:
    batch = setting(environ, "SAGEMAKER_BATCH", bool, False)
    return ServingSettings(
        port=setting(environ, "SAGEMAKER_BIND_TO_PORT", int, 8080, 1, 65535),
        workers=setting(environ, "SAGEMAKER_MODEL_SERVER_WORKERS", int, os.cpu_count() or 1, 1, 256),
        # Batch Transform allows 600 s per mini-batch by default; real-time requests, 60 s.
        timeout=setting(environ, "SAGEMAKER_MODEL_SERVER_TIMEOUT", int, 600 if batch else 60, 1, 3600),
        max_payload_mb=setting(environ, "SAGEMAKER_MAX_PAYLOAD_IN_MB", float, 6.0, 0.001, 1024.0),
        default_accept=setting(environ, "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", str, "application/json",
                               choices=RESPONSE_TYPES),
        predict_threads=setting(environ, "ATTRITION_PREDICT_THREADS", int, 1, 0, 256),
        access_log=setting(environ, "ATTRITION_ACCESS_LOG", bool, False),
    )


@dataclass(frozen=True)
class CaptureSettings:
    """Local data capture: off unless a folder is given; and what it keeps (serve/policy.py):
    identifier columns as a keyed hash, protected columns apart (or dropped), files for at most
    retention_days (0: kept until someone deletes them)."""

    folder: Path | None
    percent: float
    hashed: tuple[str, ...] = ()
    hash_key: bytes = b""
    protected: tuple[str, ...] = ()
    protected_folder: Path | None = None
    retention_days: int = 0

    @property
    def minimising(self) -> bool:
        return bool(self.hashed or self.protected)


HASH_KEY_BYTES = 16  # the least key an HMAC of identifiers needs: shorter ones can be guessed


def capture_settings(environ: Environ = os.environ) -> CaptureSettings:
    folder = setting(environ, "ATTRITION_CAPTURE_DIR", str, "")
    hashed = _names(setting(environ, "ATTRITION_CAPTURE_HASH_COLUMNS", str, ""))
    key = setting(environ, "ATTRITION_CAPTURE_HASH_KEY", str, "").encode()
    if hashed and len(key) < HASH_KEY_BYTES:
        raise SettingError(f"ATTRITION_CAPTURE_HASH_COLUMNS needs ATTRITION_CAPTURE_HASH_KEY: a secret of at least "
                           f"{HASH_KEY_BYTES} characters ({len(key)} given), the same on every instance and restart")
    protected = _names(setting(environ, "ATTRITION_CAPTURE_PROTECTED_COLUMNS", str, ""))
    both = sorted(set(hashed) & set(protected))
    if both:
        raise SettingError(f"column(s) {', '.join(both)} are both hashed and protected: choose one")
    apart = setting(environ, "ATTRITION_CAPTURE_PROTECTED_DIR", str, "")
    return CaptureSettings(Path(folder) if folder else None,
                           setting(environ, "ATTRITION_CAPTURE_PERCENT", float, 100.0, 0.0, 100.0),
                           hashed, key, protected, Path(apart) if apart else None,
                           setting(environ, "ATTRITION_CAPTURE_RETENTION_DAYS", int, 0, 0, 36500))


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class DistributedSettings:
    """Training on several hosts: host k of resourceconfig.json's hosts listens on port + k."""

    port: int
    timeout_minutes: int


def checkpoint_seconds(environ: Environ = os.environ) -> float:
    """How often training saves a checkpoint, at most (when /opt/ml/checkpoints exists)."""
    return setting(environ, "ATTRITION_CHECKPOINT_SECONDS", float, 60.0, 0.0, 86400.0)


def distributed_settings(environ: Environ = os.environ) -> DistributedSettings:
    return DistributedSettings(
        port=setting(environ, "ATTRITION_DISTRIBUTED_PORT", int, 12400, 1024, 65000),
        timeout_minutes=setting(environ, "ATTRITION_DISTRIBUTED_TIMEOUT", int, 30, 1, 1440),
    )


@dataclass(frozen=True)
class MonitorSettings:
    """The monitor job's inputs (Model Monitor's processing contract) and drift thresholds."""

    dataset_source: Path
    output_path: Path
    baseline_statistics: Path
    baseline_constraints: Path
    start_time: str
    end_time: str
    publish_cloudwatch_metrics: bool
    endpoint_name: str
    schedule_name: str
    psi: float
    ks_alpha: float
    missing: float
    new_category: float
    prediction_shift: float
    min_rows: int
    analysis_type: str = "DATA_QUALITY"  # or MODEL_QUALITY: predictions joined with ground truth
    ground_truth_source: Path = Path("groundtruth")
    baseline_given: bool = False  # baseline_constraints was set (a model-quality baseline is read, not derived)
    protected_source: Path = Path("protected")  # a capture policy's protected store, for the bias monitor
    history: Path | None = None  # earlier runs' reports, for monitor_report.html's trend


def monitor_settings(environ: Environ = os.environ) -> MonitorSettings:
    where = paths(environ)
    return MonitorSettings(
        dataset_source=Path(setting(environ, "dataset_source", str,
                                    str(where.processing_dir / "endpointdata"))),
        output_path=Path(setting(environ, "output_path", str, str(where.processing_dir / "resultdata"))),
        baseline_statistics=Path(setting(environ, "baseline_statistics", str,
                                         str(where.model_dir / STATISTICS_FILE))),
        baseline_constraints=Path(setting(environ, "baseline_constraints", str,
                                          str(where.model_dir / CONSTRAINTS_FILE))),
        start_time=setting(environ, "start_time", str, ""),
        end_time=setting(environ, "end_time", str, ""),
        publish_cloudwatch_metrics=setting(environ, "publish_cloudwatch_metrics", bool, False),
        endpoint_name=setting(environ, "sagemaker_endpoint_name", str, "local"),
        schedule_name=setting(environ, "sagemaker_monitoring_schedule_name", str, "local"),
        psi=setting(environ, "ATTRITION_MONITOR_PSI", float, MONITOR_DEFAULTS.psi, 0.0, 100.0),
        ks_alpha=setting(environ, "ATTRITION_MONITOR_KS_ALPHA", float, MONITOR_DEFAULTS.ks_alpha, 0.0, 1.0),
        missing=setting(environ, "ATTRITION_MONITOR_MISSING", float, MONITOR_DEFAULTS.missing, 0.0, 1.0),
        new_category=setting(environ, "ATTRITION_MONITOR_NEW_CATEGORY", float, MONITOR_DEFAULTS.new_category,
                             0.0, 1.0),
        prediction_shift=setting(environ, "ATTRITION_MONITOR_PREDICTION_SHIFT", float,
                                 MONITOR_DEFAULTS.prediction_shift, 0.0, 1.0),
        min_rows=setting(environ, "ATTRITION_MONITOR_MIN_ROWS", int, MONITOR_DEFAULTS.min_rows, 0, 10**9),
        analysis_type=setting(environ, "analysis_type", str, "DATA_QUALITY", choices=ANALYSIS_TYPES),
        ground_truth_source=Path(setting(environ, "ground_truth_source", str,
                                         str(where.processing_dir / "groundtruth"))),
        baseline_given=bool(environ.get("baseline_constraints", "").strip()),
        protected_source=Path(setting(environ, "protected_source", str, str(where.processing_dir / "protected"))),
        history=_optional_path(setting(environ, "ATTRITION_MONITOR_HISTORY", str, "")),
    )


def _optional_path(text: str) -> Path | None:
    return Path(text) if text else None


@dataclass(frozen=True)
class JobIdentity:
    """Where a training run happened, for the lineage manifest."""

    image_revision: str
    training_job_name: str | None
    training_job_arn: str | None


def job_identity(environ: Environ = os.environ) -> JobIdentity:
    return JobIdentity(
        image_revision=setting(environ, "ATTRITION_IMAGE_REVISION", str, "unknown"),
        training_job_name=setting(environ, "TRAINING_JOB_NAME", str, None),
        training_job_arn=setting(environ, "TRAINING_JOB_ARN", str, None),
    )
