"""profile.html: the export's data quality and insights, read in a real headless browser."""

import csv
import io

from tests.browser import render
from tests.unit.prepare.test_job import run


def test_the_profile_page_shows_each_column_and_warns_of_identifiers_and_leakage(tmp_path, ibm_text):
    rows = list(csv.DictReader(io.StringIO(ibm_text)))
    for row in rows:  # a column recorded after the fact: the exit interview happened only for leavers
        row["ExitInterview"] = "held" if row["Attrition"] == "Yes" else "skipped"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    code, profile = run(tmp_path, out.getvalue())
    assert code == 0
    found = profile["insights"]
    assert found["columns"]["ExitInterview"]["association"] == 1.0
    assert any(w.startswith("ExitInterview: alone it predicts who left (AUC 1.000): likely target leakage")
               for w in found["warnings"])
    assert any(w.startswith("EmployeeNumber: dropped from training (identifier-like") for w in found["warnings"])
    assert 0.5 < found["columns"]["OverTime"]["association"] < 0.8
    assert found["columns"]["EmployeeNumber"]["association"] is None  # one employee a value: meaningless
    assert found["baseline_auc"] == 1.0  # the leak makes any model perfect: the warning says why
    page = tmp_path / "out" / "profile" / "profile.html"
    assert page.stat().st_size < 300_000
    rendered = render(page, tmp_path)
    assert rendered.resources == [] and rendered.page_width <= 1280
    assert rendered.headings == ["Overview", "Warnings", "Columns, most associated with leaving first"]
    assert rendered.charts == rendered.charts_with_size == len(profile["columns"])
    text = page.read_text()
    assert text.index("ExitInterview") < text.index("<b>OverTime</b>")  # most associated first
