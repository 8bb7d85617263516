"""One way to write a log line: text from the data (a column named "x\\nvalidation:auc=1") is
escaped, so nothing a user uploads can start a line of its own. SageMaker scrapes metrics from
training logs with MetricDefinitions regexes: a forged line would be read as a real metric."""

import sys
from typing import TextIO


def escape(text: str) -> str:
    """Every character that is not printable (line breaks, escapes, BOMs...) as a visible escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def say(text: str, stream: TextIO | None = None) -> None:
    print(escape(text), file=stream or sys.stdout, flush=True)
