"""report.html: written by every training, self-contained."""





def test_report_html_is_written(trained_dir):
    page = (trained_dir / "output" / "data" / "report.html").read_text()
    assert page.count("<svg") == 5
    for title in ("ROC curve", "Precision-recall curve", "Calibration", "Threshold vs F1",
                  "Global importance", "Confusion matrix", "EmployeeNumber"):
        assert title in page
