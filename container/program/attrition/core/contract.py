"""The names the image, the deploy CLI and the pipelines must agree on, spelled once.

Standard library only and no imports of ours: `attrition-deploy` (boto3 alone) and the pipelines
import this module from the installed package, the image from /opt/program.
tests/unit/test_layout.py fails when one of these values is spelled anywhere else.
"""

from dataclasses import dataclass

# Yes or no, as every reader of a setting takes it (a hyperparameter, an environment variable, a
# request's explain=, the deploy CLI's --hp), in any case. 1 and 0 count too, except where a
# number means something of its own (explain=3 asks for three drivers).
TRUE_WORDS = ("true", "yes", "on", "enabled")
FALSE_WORDS = ("false", "no", "off", "disabled")
TRUE_VALUES = (*TRUE_WORDS, "1")
FALSE_VALUES = (*FALSE_WORDS, "0")

# A model directory, as `train` writes it and `package`, the registry and `serve` read it.
MODEL_FILE = "model.txt"  # the LightGBM text model
METADATA_FILE = "metadata.json"  # schema, threshold, baseline: everything serving needs
MANIFEST_FILE = "manifest.json"  # lineage: data hashes, image revision, model version
MODEL_FILES = (MODEL_FILE, METADATA_FILE, MANIFEST_FILE)
STATISTICS_FILE = "statistics.json"  # the training baseline, in Model Monitor's format
CONSTRAINTS_FILE = "constraints.json"  # and its constraints
QUALITY_CONSTRAINTS_FILE = "model_quality_constraints.json"  # the model-quality monitor's baseline

# The monitor's analysis_type values, Model Monitor's four kinds; monitor-schedule's --kind
# values (data-quality, model-quality, model-bias, model-explainability) in the same order.
ANALYSIS_TYPES = ("DATA_QUALITY", "MODEL_QUALITY", "MODEL_BIAS", "MODEL_EXPLAINABILITY")

# What `evaluate` writes beside its verdict, and what a registry stores with a model.
EVALUATION_FILE = "evaluation.json"
BIAS_FILE = "bias.json"
MODEL_CARD_FILE = "model_card.json"

# The metrics `train` prints as `split:name=value` lines (SageMaker's metric definitions read them).
METRIC_NAMES = ("auc", "pr_auc", "logloss", "accuracy", "precision", "recall", "f1")
METRIC_SPLITS = ("validation", "train")
CV_AUC_MEAN = "cv:auc_mean"
CV_AUC_STD = "cv:auc_std"
TUNING_OBJECTIVE = "validation:auc"  # what SageMaker's tuner maximises

# The gate: evaluate decides it whole (evaluation.json's attrition.gate); pipelines read only this.
GATE_PASSED_PATH = "attrition.gate.passed"

# The SageMaker pipeline's parameters that the CLI passes, and the marker of "no champion yet".
INPUT_DATA_URL = "InputDataUrl"
CHAMPION_MODEL_URL = "ChampionModelUrl"
NO_CHAMPION = "no-champion.txt"  # the only file of a champion folder when there is none

# The MLflow registry's conventions, shared by attrition-deploy and the pipelines.
APPROVAL_TAG = "approval"  # a model version's ModelApprovalStatus
MODEL_CARD_STATUS_TAG = "model_card_status"  # its model card's status, following the approval
CHAMPION_ALIAS = "champion"  # the approved model that serves
AUDIT_TAG_PREFIX = "audit."  # audit.<event>: a decision about a version, on the version


@dataclass(frozen=True)
class Thresholds:
    """The data-quality monitor's defaults (ATTRITION_MONITOR_* override them)."""

    psi: float = 0.2  # population stability index above which a feature has drifted
    ks_alpha: float = 0.001  # KS p-value below which a numeric feature has drifted
    missing: float = 0.05  # increase in the share of missing values that counts
    new_category: float = 0.01  # share of rows with categories never seen in training
    prediction_shift: float = 0.05  # change of the mean predicted attrition probability
    min_rows: int = 100  # fewer rows than this: report, but recommend nothing
