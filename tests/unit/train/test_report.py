"""report.html: written by every training, self-contained, and read in a real browser."""

from tests.browser import render


def test_report_html_is_written(trained_dir):
    page = (trained_dir / "output" / "data" / "report.html").read_text()
    for title in ("ROC curve", "Precision-recall curve", "Calibration", "Threshold vs F1",
                  "Global importance", "Confusion matrix", "EmployeeNumber",
                  "How the risk responds to each feature", "exact step function", "OverTime: probability of leaving",
                  "Impact ratios (New York City Local Law 144)", "<h3>MaritalStatus</h3>", "(-inf, 40]",
                  "Brier score", "Calibration error (ECE)", "AUC expected from the probabilities"):
        assert title in page


def test_a_browser_lays_out_every_chart_and_loads_nothing(trained_dir, tmp_path):
    page = trained_dir / "output" / "data" / "report.html"
    assert page.stat().st_size < 500_000
    rendered = render(page, tmp_path)
    assert rendered.charts == rendered.charts_with_size == 5 + 6  # the model's charts, six response curves
    assert rendered.resources == []
    assert rendered.page_width <= 1280
    assert "How the risk responds to each feature" in rendered.headings
