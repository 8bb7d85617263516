"""What the image declares, shipped beside the CLI: its hyperparameters (their types and ranges)
and the search ranges tuning uses, both written from the image's own specs (a test keeps them
equal). Read once here, so `plans` stays pure: it is given the ranges."""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
HYPERPARAMETERS: dict = json.loads((HERE / "hyperparameters.json").read_text())
TUNING_RANGES: dict = json.loads((HERE / "tuning_ranges.json").read_text())
TUNED = [r["Name"] for kind in TUNING_RANGES.values() for r in kind]
