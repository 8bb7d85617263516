"""The Kubeflow pipeline's steps as kfp runs them (`python3 -c <kubeflow_steps.py> STEP OUTPUT ...`),
each calling the image's own command, here the image's entry scripts on this machine: the files
land where Kubeflow reads the outputs, and the executor output names every artifact with its
metadata and the parameters the pipeline branches on. The register branch included, which kfp's
local runner never reaches."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import BUNDLED_CSV, ROOT

SOURCE = (ROOT / "pipelines" / "attrition_pipelines" / "kubeflow_steps.py").read_text()


@pytest.fixture(scope="module")
def image_path(tmp_path_factory) -> str:
    """A PATH like the image's: its entries, and python3 the one with the image's libraries."""
    folder = tmp_path_factory.mktemp("bin")
    (folder / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')  # a symlink would leave the venv
    (folder / "python3").chmod(0o755)
    for entry in ("prepare", "train", "evaluate", "score"):
        (folder / entry).symlink_to(ROOT / "container" / "program" / entry)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def step(name: str, root: Path, path: str, **args: str) -> dict:
    named = [item for key, value in args.items() for item in (key, value)]
    output = root / name / "executor_output.json"
    done = subprocess.run([sys.executable, "-c", SOURCE, name, str(output), *named], capture_output=True, text=True,
                          env={**os.environ, "PATH": path}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(output.read_text())


def outputs(root: Path, step_name: str, *names: str) -> dict[str, str]:
    return {n: str(root / step_name / n) for n in names} | {f"{n}_uri": f"file://{root / step_name / n}" for n in names}


def test_each_step_lays_out_its_outputs_and_reports_them(tmp_path, image_path):
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(BUNDLED_CSV, export / "export.csv")
    prepared = step("prepare", tmp_path, image_path, export=str(export), seed="3", test_fraction="0.2",
                    validation_fraction="0.2", **outputs(tmp_path, "prepare", "train", "validation", "test", "profile"))
    assert set(prepared["artifacts"]) == {"train", "validation", "test", "profile"}
    assert prepared["artifacts"]["test"]["artifacts"][0]["uri"] == f"file://{tmp_path / 'prepare' / 'test'}"

    trained = step("train", tmp_path, image_path, train=str(tmp_path / "prepare" / "train"),
                   validation=str(tmp_path / "prepare" / "validation"), seed="3", **outputs(tmp_path, "train", "model"))
    model = tmp_path / "train" / "model"
    metadata = trained["artifacts"]["model"]["artifacts"][0]["metadata"]
    assert (model / "model.txt").is_file() and len(metadata["model_version"]) == 16 and metadata["validation_auc"] > 0.7

    champion = tmp_path / "champion"
    champion.mkdir()
    (champion / "no-champion.txt").write_text("none yet\n")
    names = ("evaluation", "bias", "model_card", "metrics", "classification", "test_auc", "gate_passed")
    evaluated = step("evaluate", tmp_path, image_path, model=str(model), champion=str(champion),
                     test=str(tmp_path / "prepare" / "test"), auc_threshold="0.5", auc_tolerance="0.01",
                     bias_tolerance="0", **outputs(tmp_path, "evaluate", *names))
    assert evaluated["parameterValues"]["gate_passed"] is True
    assert (tmp_path / "evaluate" / "gate_passed").read_text() == "true"
    auc = evaluated["parameterValues"]["test_auc"]
    assert float((tmp_path / "evaluate" / "test_auc").read_text()) == auc
    assert evaluated["artifacts"]["metrics"]["artifacts"][0]["metadata"]["test_auc"] == auc
    rows = evaluated["artifacts"]["classification"]["artifacts"][0]["metadata"]["confusionMatrix"]["rows"]
    assert sum(sum(r["row"]) for r in rows) == 294  # every test row, in the matrix the KFP UI draws
    gate = evaluated["artifacts"]["evaluation"]["artifacts"][0]["metadata"]["gate"]
    assert gate["passed"] and json.loads((tmp_path / "evaluate" / "model_card").read_text())["model_overview"]

    registered = step("register", tmp_path, image_path, model=str(model),
                      evaluation=str(tmp_path / "evaluate" / "evaluation"), approval="PendingManualApproval",
                      **outputs(tmp_path, "register", "registered"))
    package = registered["artifacts"]["registered"]["artifacts"][0]["metadata"]
    assert package["approval"] == "PendingManualApproval" and package["test_auc"] == auc
    assert package["model_version"] == metadata["model_version"] and package["data"]["train"]
    assert (tmp_path / "register" / "registered" / "model.txt").read_bytes() == (model / "model.txt").read_bytes()

    employees = tmp_path / "employees"
    employees.mkdir()
    shutil.copy(BUNDLED_CSV, employees / "employees.csv")
    scored = step("score", tmp_path, image_path, model=str(model), employees=str(employees), cohorts="Department",
                  **outputs(tmp_path, "score", "scores"))
    assert set(scored["artifacts"]) == {"scores"}
    assert len((tmp_path / "score" / "scores" / "employees.csv.out").read_text().splitlines()) == 1470
    assert (tmp_path / "score" / "scores" / "cohorts.json").is_file()


def test_a_failing_command_fails_the_step(tmp_path, image_path):
    arguments = ["export", str(tmp_path / "missing"), "seed", "0", "test_fraction", "0.2", "validation_fraction", "0.2"]
    done = subprocess.run([sys.executable, "-c", SOURCE, "prepare", str(tmp_path / "out.json"), *arguments],
                          capture_output=True, text=True, env={**os.environ, "PATH": image_path}, timeout=120)
    assert done.returncode != 0 and not (tmp_path / "out.json").exists()
