"""manifest.json ties the model version to its data, settings and image."""

import hashlib
import json


def test_manifest_traces_the_model_to_its_data(trained_dir, ibm_text):
    manifest = json.loads((trained_dir / "model" / "manifest.json").read_text())
    model_bytes = (trained_dir / "model" / "model.txt").read_bytes()
    assert manifest["model_sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert manifest["model_version"] == manifest["model_sha256"][:16]
    (data_file,) = manifest["data"]["train"]
    assert data_file == {"file": "train/ibm.csv", "rows": 1470,
                         "sha256": hashlib.sha256(ibm_text.encode("utf-8")).hexdigest()}
    assert manifest["hyperparameters"]["num_boost_round"] == 60
    assert manifest["versions"]["lightgbm"] and manifest["trained_at"].endswith("Z")
