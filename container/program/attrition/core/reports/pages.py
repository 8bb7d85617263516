"""What the pages people read share (monitor_report.html, profile.html): the style, bar charts as
inline SVG, and escaping. Self-contained by construction: nothing here links to anything."""

import html

WIDTH, HEIGHT = 300, 120
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1180px; }
h1 { font-size: 22px; } h2 { font-size: 16px; margin-top: 26px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f4f4f4; text-align: left; } td { text-align: right; }
.charts { display: flex; flex-wrap: wrap; gap: 10px; } .flag { color: #b00; font-weight: 600; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; }
"""


def bars(labels: list[str], series: list[tuple[list[float], str]], percent: bool = True) -> str:
    """Bars per label, one for each series (values, colour) side by side, their values on hover."""
    n = max(len(labels), 1)
    top = max([v for values, _ in series for v in values] + [1e-9])
    slot = (WIDTH - 10) / n
    width = slot / max(len(series), 1)
    parts = [f'<svg width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">']
    for i, label in enumerate(labels):
        for j, (values, colour) in enumerate(series):
            value = values[i]
            h = (HEIGHT - 10) * value / top
            shown = f"{value:.1%}" if percent else f"{value:g}"
            parts.append(f'<rect x="{5 + i * slot + j * width:.1f}" y="{HEIGHT - 5 - h:.1f}" '
                         f'width="{max(width - 1, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                         f'<title>{escape(label)}: {shown}</title></rect>')
    return "".join(parts) + "</svg>"


def escape(text) -> str:
    return html.escape(str(text), quote=True)
