"""Log lines cannot be forged by the data: what is not printable is shown escaped."""

from attrition.core.platform import logs


def test_line_breaks_and_escapes_are_shown_not_obeyed(capsys):
    logs.say("dropped column DailyRate\nvalidation:auc=0.9999\r\x1b[2J\u2028x")
    out = capsys.readouterr().out
    assert out == "dropped column DailyRate\\nvalidation:auc=0.9999\\r\\x1b[2J\\u2028x\n"


def test_printable_text_is_unchanged():
    assert logs.escape("Größe ≥ 3, naïve") == "Größe ≥ 3, naïve"
