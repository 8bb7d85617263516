"""Ground truth in SageMaker Model Monitor's format: written by `groundtruth`, read by `monitor`.

One JSON line per captured record, under <folder>/yyyy/mm/dd/hh/:
  {"groundTruthData": {"data": "Yes", "encoding": "CSV"}, "eventMetadata": {"eventId": "<id>"},
   "eventVersion": "0"}
The eventId is the capture record's inferenceId when it has one, its eventId otherwise (how
SageMaker merges the two). A record of several employees holds one label per row, one a line, in
the rows' order; an empty line is a row whose truth is not known.
"""

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Truth:
    event_id: str
    labels: list[str]  # per row of the captured request; "" when unknown


def record_line(truth: Truth) -> str:
    return json.dumps({"groundTruthData": {"data": "\n".join(truth.labels), "encoding": "CSV"},
                       "eventMetadata": {"eventId": truth.event_id}, "eventVersion": "0"})


def parse_line(line: str) -> Truth:
    """Raise ValueError when the line is not a ground-truth record."""
    try:
        record = json.loads(line)
        data = record["groundTruthData"]["data"]
        event_id = record["eventMetadata"]["eventId"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ValueError("not a ground-truth record") from None
    if not isinstance(data, str) or not isinstance(event_id, str) or not event_id:
        raise ValueError("not a ground-truth record")
    return Truth(event_id, data.split("\n"))
