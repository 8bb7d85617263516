"""monitor_report.html: every monitoring run as a page, read in a real headless browser."""

import json

from tests.browser import render
from tests.helpers import capture_traffic, next_year
from tests.unit.monitor.test_job import run_monitor, send  # noqa: F401 (a fixture)


def test_a_data_quality_run_is_a_page_with_each_feature_the_estimate_and_the_trend(
        tmp_path, trained_dir, trained_model, send, ibm_text):  # noqa: F811
    history = tmp_path / "history"
    history.mkdir()
    for n, shifted in enumerate((False, True)):
        capture = capture_traffic(send, next_year(ibm_text, 500, seed=40 + n, shifted=shifted))
        code, _, report = run_monitor(tmp_path / f"run{n}", trained_dir, {"capture.jsonl": capture},
                                      ATTRITION_MONITOR_HISTORY=str(history))
        assert code == 0
        (history / f"run{n}.json").write_text(json.dumps(report))
    page = tmp_path / "run1" / "resultdata" / "monitor_report.html"
    text = page.read_text()
    assert page.stat().st_size < 200_000 and "Retraining recommended." in text and "JobRole" in text
    rendered = render(page, tmp_path)
    assert rendered.resources == [] and rendered.page_width <= 1280
    assert rendered.charts == rendered.charts_with_size == len(trained_model.schema.features)
    assert rendered.headings == ["Performance estimated before the labels arrive",
                                 "Inputs: training (blue) and this window (red)", "Trend across windows"]
    assert text.count("<tr><td>20") == 2  # the earlier run and this one, in the trend
