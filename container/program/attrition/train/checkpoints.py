"""Checkpoints for spot training: when /opt/ml/checkpoints exists (SageMaker's CheckpointConfig,
which `attrition-deploy train-job --checkpoint` sets, syncs it with S3 and restores it after an
interruption), training saves how far it got, and a job restarted on the same data and settings
resumes there. LightGBM text and JSON only, each file written whole or not at all.

    state.json   the job's fingerprint (the settings and the training data's SHA-256), the
                 finished stages: each finished fold (trees, held-out probabilities, AUC), the
                 cross-validation (the settings after tuning, trees, out-of-fold probabilities,
                 fold AUCs, trials), and the final model's rounds so far
    final.txt    the final model so far

A job stopped during cross-validation repeats only the fold it was in; one stopped during the
final fit resumes from its last saved round. Tuning trials are not saved. A checkpoint of other
data or settings is set aside, not resumed.
"""

import base64
import hashlib
import json
import time
from pathlib import Path

import lightgbm
import numpy as np

from ..core.platform import artifact, logs

STATE, FINAL = "state.json", "final.txt"


def pack(values: np.ndarray) -> str:
    """Probabilities for state.json: their float64 bytes in base64, a third of a list of numbers in
    JSON, and no Python float per value in memory (a 1.5 M-row export has 1.5 M of them)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode()


def unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").copy()


class Checkpoints:
    def __init__(self, folder: Path | None, fingerprint: str, every_seconds: float):
        self.folder = folder
        self.fingerprint = fingerprint
        self.every_seconds = every_seconds
        self.state: dict = self._load()

    @classmethod
    def open(cls, folder: Path | None, hp: dict, data_files: list, every_seconds: float) -> "Checkpoints":
        """Checkpoints in `folder` when it exists; otherwise an object that saves nothing."""
        identity = json.dumps({"hp": hp, "data": [f["sha256"] for f in data_files]}, sort_keys=True, default=str)
        fingerprint = hashlib.sha256(identity.encode()).hexdigest()[:16]
        return cls(folder if folder is not None and folder.is_dir() else None, fingerprint, every_seconds)

    def stage(self, name: str) -> dict | None:
        return self.state.get(name)

    def save_stage(self, name: str, value: dict, note: str = "") -> None:
        if self.folder is None:
            return
        self.state[name] = value
        artifact.write_json(self.folder / STATE, self.state)
        logs.say(f"checkpoint: {note or name + ' saved'}")

    def final_model(self) -> tuple[lightgbm.Booster | None, int]:
        """The final model so far and its rounds, when a checkpoint holds one."""
        rounds = (self.stage("final") or {}).get("rounds", 0)
        if not rounds or self.folder is None or not (self.folder / FINAL).is_file():
            return None, 0
        artifact.check_model_text(self.folder / FINAL)
        logs.say(f"checkpoint: resuming the final model from round {rounds}")
        return lightgbm.Booster(model_file=str(self.folder / FINAL)), rounds

    def saver(self):
        """A LightGBM callback saving the model being grown every `every_seconds` at most."""
        last = [time.monotonic()]

        def save(env) -> None:
            if self.folder is None or time.monotonic() - last[0] < self.every_seconds:
                return
            artifact.write_text(self.folder / FINAL, env.model.model_to_string())
            self.save_stage("final", {"rounds": env.iteration + 1},
                            f"final model saved at round {env.iteration + 1}")
            last[0] = time.monotonic()

        return save

    def _load(self) -> dict:
        if self.folder is None or not (self.folder / STATE).is_file():
            return {"fingerprint": self.fingerprint}
        try:
            state = json.loads((self.folder / STATE).read_text())
        except ValueError:
            state = {}
        if state.get("fingerprint") != self.fingerprint:
            logs.say("checkpoint: the one found is of other data or settings (or damaged): starting over")
            (self.folder / STATE).replace(self.folder / f"{STATE}.set-aside")
            return {"fingerprint": self.fingerprint}
        logs.say(f"checkpoint: resuming; done: {', '.join(k for k in state if k != 'fingerprint') or 'nothing'}")
        return state
