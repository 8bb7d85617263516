"""Hypothesis strategies for requests to /invocations: the valid ones a client sends, and the
broken, odd and hostile ones it might. Used in-process (tests/unit/serve) and against the image
(tests/container)."""

import json
import string
import urllib.parse

from hypothesis import strategies as st

from tests.helpers import BUNDLED_CSV

HEADER, *ROWS = BUNDLED_CSV.read_text(encoding="utf-8-sig").splitlines()
NAMES = HEADER.split(",")
MEDIA_TYPES = ["text/csv", "application/json", "application/jsonlines", "application/x-jsonlines",
               "application/jsonl", "text/plain", "application/xml", "", "text/csv;", "*/*", "TEXT/CSV"]
CHARSETS = ["utf-8", "UTF8", "latin-1", "utf-16", "ascii", "punycode", "undefined", "rot13", "klingon", "", '"utf-8"']
ACCEPTS = [None, "*/*", "application/json", "text/csv", "application/jsonlines", "image/png",
           "text/csv;q=0.5, application/json", "application/*", "nonsense", ""]
ASCII = st.text(string.printable.replace("\r", "").replace("\n", "").replace("\x0b", "").replace("\x0c", ""),
                max_size=30)


@st.composite
def valid_request(draw):
    """(body, content type, accept, row indices): a request the model must answer row by row."""
    rows = draw(st.lists(st.integers(0, len(ROWS) - 1), min_size=1, max_size=40))
    shape = draw(st.sampled_from(["csv_header", "csv_bare", "json_records", "json_instances", "jsonlines",
                                  "json_lists"]))
    records = [dict(zip(NAMES, ROWS[i].split(","))) for i in rows]
    if shape == "csv_header":
        body, kind = "\n".join([HEADER] + [ROWS[i] for i in rows]) + "\n", "text/csv"
    elif shape == "csv_bare":
        body, kind = "\n".join(ROWS[i] for i in rows) + "\n", "text/csv; charset=utf-8"
    elif shape == "json_records":
        body, kind = json.dumps(records), "application/json"
    elif shape == "json_instances":
        body, kind = json.dumps({"instances": records}), "application/json"
    elif shape == "json_lists":
        body, kind = json.dumps([ROWS[i].split(",") for i in rows]), "application/json"
    else:
        body, kind = "".join(json.dumps(r) + "\n" for r in records), "application/jsonlines"
    accept = draw(st.sampled_from([None, "*/*", "application/json", "text/csv", "application/jsonlines"]))
    return body.encode(), kind, accept, rows


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(NAMES[:8] + ["x"]), inner, max_size=5),
    max_leaves=30,
)


@st.composite
def mutated_csv(draw):
    lines = [HEADER] + [ROWS[i] for i in draw(st.lists(st.integers(0, len(ROWS) - 1), min_size=0, max_size=5))]
    text = "\n".join(lines)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, max(0, len(text) - 1)))
        text = text[:at] + draw(st.sampled_from([",", "\n", '"', "\x00", "\r", "é", "forty", "", ";;", "\ufeff"])) \
            + text[at + draw(st.integers(0, 3)):]
    return text.encode()


any_body = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda depth: ("[" * depth + "]" * depth).encode(), st.integers(0, 3000)),
    mutated_csv(),
)


@st.composite
def any_request(draw):
    """(method, path with query, headers, body): anything a careless or hostile client sends."""
    method = draw(st.sampled_from(["POST"] * 6 + ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    path = draw(st.sampled_from(["/invocations"] * 6 + ["/ping", "/model", "/execution-parameters",
                                                         "/openapi.json", "/", "/nope", "/invocations/"]))
    query = draw(st.sampled_from(["", "explain=3", "explain=true", "explain=\u00b2", "explain=999", "explain=-1",
                                  "explain=", "explain=1&explain=2", "a=b"])
                  | ASCII.map(lambda t: "explain=" + urllib.parse.quote(t, safe="")))
    media = draw(st.sampled_from(MEDIA_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    headers = {"Content-Type": f"{media}; charset={charset}" if charset and media else media}
    accept = draw(st.sampled_from(ACCEPTS))
    if accept is not None:
        headers["Accept"] = accept
    if draw(st.booleans()):
        headers["X-Amzn-SageMaker-Custom-Attributes"] = draw(ASCII | st.sampled_from(["explain=3", "explain=x"]))
    return method, path + ("?" + query if query else ""), headers, draw(any_body)
