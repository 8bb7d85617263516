"""Helpers shared by the unit tests: a fake /opt/ml under a temporary folder, and training in it."""

import base64
import csv
import io
import json
import sys
import uuid
from pathlib import Path

import numpy as np

from attrition.core.platform import environment
from attrition.core.table import columns as columns_module
from attrition.core.table import schema
from attrition.train import job as training
from attrition_pipelines.next_year import sample

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CSV = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"


def script(name: str, python: str = sys.executable) -> str:
    """A console script of the package (pyproject.toml), as installed in `python`'s venv."""
    return str(Path(python).parent / name)


FAST = {"num_boost_round": "60", "early_stopping_rounds": "0"}


def make_opt_ml(base: Path, hyperparameters=None, channels=None) -> environment.Paths:
    """Lay out /opt/ml under `base`: config files plus channel name -> {file name: text}."""
    paths = environment.Paths(base)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.hyperparameters_file.write_text(json.dumps(hyperparameters or {}))
    for channel, files in (channels or {}).items():
        folder = paths.channel_dir(channel)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    return paths


def small_schema(columns: dict, drop=(), categorical=()) -> schema.Schema:
    """A schema inferred from a few named columns, the label last."""
    names = list(columns)
    held = {name: columns_module.of(values) for name, values in columns.items()}
    return schema.infer(names, held, "Attrition", len(names), ["No", "Yes"], list(drop), list(categorical))


def run_training(paths: environment.Paths) -> int:
    return training.main({"SAGEMAKER_BASE_DIR": str(paths.base)})


def next_year(ibm_text: str, rows: int, seed: int, shifted: bool) -> list:
    """A sample of employees drawn from the bundled data, `shifted` with known drift (more
    overtime, a new job role, higher incomes in R&D): what attrition-next-year writes."""
    return sample(list(csv.DictReader(io.StringIO(ibm_text))), rows, seed, shifted)


def as_csv(employees: list, header: bool = True) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(employees[0]), lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(employees)
    return out.getvalue()


def capture_record(request_body: bytes, content_type: str, response_body: bytes, accept: str,
                   when: str = "2026-11-28T10:00:00Z", base64_encoded: bool = False) -> str:
    """One line of a SageMaker data-capture file, as the endpoint writes it."""
    def part(body: bytes, kind: str, mode: str) -> dict:
        if base64_encoded:
            return {"observedContentType": kind, "mode": mode, "encoding": "BASE64",
                    "data": base64.b64encode(body).decode()}
        encoding = "CSV" if kind.startswith("text/csv") else "JSON"
        return {"observedContentType": kind, "mode": mode, "encoding": encoding, "data": body.decode()}

    return json.dumps({
        "captureData": {"endpointInput": part(request_body, content_type, "INPUT"),
                        "endpointOutput": part(response_body, accept, "OUTPUT")},
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": when},
        "eventVersion": "0",
    })


def capture_traffic(send, employees: list, batch: int = 50) -> str:
    """Send employees through `send(body, content_type, accept) -> response bytes` in batches,
    alternating CSV and JSON as clients would, and return the capture file's text."""
    lines = []
    for n, start in enumerate(range(0, len(employees), batch)):
        chunk = [{k: v for k, v in e.items() if k != "Attrition"} for e in employees[start:start + batch]]
        if n % 2:
            body, kind, accept = json.dumps(chunk).encode(), "application/json", "application/json"
        else:
            body, kind, accept = as_csv(chunk, header=False).encode(), "text/csv", "text/csv"
        lines.append(capture_record(body, kind, send(body, kind, accept), accept,
                                    base64_encoded=(n % 5 == 4)))
    return "\n".join(lines) + "\n"


def shaken_employees():
    """The bundled data as a DataFrame of strings, with unseen categories and missing values
    sprinkled in."""
    import pandas as pd  # a test-only dependency: keep it out of the modules that do not need it

    frame = pd.read_csv(BUNDLED_CSV, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.loc[frame.index % 7 == 0, "JobRole"] = "Astronaut"
    frame.loc[frame.index % 5 == 0, "MonthlyIncome"] = ""
    frame.loc[frame.index % 11 == 0, "OverTime"] = ""
    frame.loc[frame.index % 13 == 0, "Age"] = "NA"
    return frame


def pandas_reference(trained_model, frame) -> np.ndarray:
    """LightGBM's own answer: Booster.predict on a DataFrame with pandas categoricals."""
    import pandas as pd

    columns = {}
    for feature in trained_model.schema.features:
        values = frame[feature.name].replace({"": None, "NA": None})
        if feature.levels:  # an unseen category is a missing value, for LightGBM and for us
            known = values.where(values.isin(feature.levels))
            columns[feature.name] = pd.Categorical(known, categories=feature.levels)
        else:
            columns[feature.name] = pd.to_numeric(values)
    return trained_model.booster.predict(pd.DataFrame(columns))
