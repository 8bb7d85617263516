"""The pattern of AWS's scikit "bring your own" example, applied to our model: pandas per request.

Flask + gunicorn; each request is parsed with pandas.read_csv, categoricals are rebuilt as pandas
Categoricals with the training levels, the booster predicts from the DataFrame, and pandas
writes the CSV answer. Run by bench/serving.py with: gunicorn -w 2 naive_app:app
"""

import io
import json
import os
from pathlib import Path

import flask
import lightgbm
import pandas as pd

MODEL_DIR = Path(os.environ["MODEL_DIR"])
booster = lightgbm.Booster(model_file=str(MODEL_DIR / "model.txt"))
schema = json.loads((MODEL_DIR / "metadata.json").read_text())["schema"]
features = schema["features"]
app = flask.Flask(__name__)


@app.route("/ping")
def ping():
    return flask.Response(status=200)


@app.route("/invocations", methods=["POST"])
def invocations():
    frame = pd.read_csv(io.StringIO(flask.request.data.decode()), header=None,
                        names=schema["input_columns"])
    columns = {}
    for feature in features:
        values = frame[feature["name"]]
        if feature["kind"] == "categorical":
            values = pd.Categorical(values.astype(str), categories=feature["levels"])
        columns[feature["name"]] = values
    probabilities = booster.predict(pd.DataFrame(columns))
    out = io.StringIO()
    pd.DataFrame({"probability": probabilities}).to_csv(out, header=False, index=False)
    return flask.Response(out.getvalue(), mimetype="text/csv")
