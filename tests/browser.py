"""Open an HTML report in a real headless browser (Chromium) and measure what a reader sees.

A copy of the page gets a script that measures it once loaded and writes the figures into the
DOM, which `--dump-dom` prints: how many charts were laid out with a size, how wide the page is,
and every resource the page tried to load (a self-contained report loads none). Every host name
resolves nowhere, so a stray link could not fetch anything anyway. Without Chromium the test
skips saying so; ATTRITION_REQUIRE_BROWSER=1 (CI) makes it fail instead.
"""

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")
PROBE = """<script>
window.addEventListener("load", () => {
  const charts = [...document.querySelectorAll("svg")].map(s => s.getBoundingClientRect());
  const figures = {
    charts: charts.length,
    charts_with_size: charts.filter(r => r.width > 50 && r.height > 50).length,
    page_width: document.documentElement.scrollWidth,
    resources: performance.getEntriesByType("resource").map(r => r.name),
    headings: [...document.querySelectorAll("h2")].map(h => h.textContent),
  };
  const out = document.createElement("pre");
  out.id = "browser-figures";
  out.textContent = JSON.stringify(figures);
  document.body.appendChild(out);
});
</script>"""


@dataclass
class Rendered:
    charts: int
    charts_with_size: int
    page_width: int
    resources: list
    headings: list


def browser() -> str:
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if found is None:
        reason = "no headless Chromium (apt-get install chromium-headless-shell)"
        if os.environ.get("ATTRITION_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are mandatory here but there is {reason}")
        pytest.skip(f"report rendering needs a browser: {reason}")
    return found


def render(page: Path, scratch: Path) -> Rendered:
    probe = scratch / f"probed-{page.name}"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
               "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={scratch / 'chromium-profile'}",
               "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="browser-figures">(.*?)</pre>', result.stdout, re.S)
    assert found, f"the browser printed no figures (exit {result.returncode}): {result.stderr[-2000:]}"
    return Rendered(**json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")))
