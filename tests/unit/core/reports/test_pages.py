"""The pages' shared parts: bars drawn to scale, text always escaped."""

import re

from attrition.core.reports import pages


def test_bars_are_drawn_to_scale_with_their_values_on_hover_and_labels_escaped():
    svg = pages.bars(["a<b", "c"], [([0.5, 0.25], "#111"), ([0.1, 0.0], "#222")])
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"', svg)[1:]]
    assert heights == [110.0, 22.0, 55.0, 0.0]  # the tallest bar fills the frame; the rest in proportion
    assert "<title>a&lt;b: 50.0%</title>" in svg and "a<b" not in svg
    assert pages.escape('"x" & <y>') == "&quot;x&quot; &amp; &lt;y&gt;"
