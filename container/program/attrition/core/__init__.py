"""The shared core: what every job needs, and nothing that belongs to one job.

Nothing here imports from a job (`attrition.train`, `serve`, `monitor`, `prepare`, `evaluate`,
`score`, `groundtruth`): tests/unit/test_layout.py checks it. Grouped by theme, the themes layered:
platform, then table, then predict, quality and wire side by side, then reports (docs/layout.md).
"""
