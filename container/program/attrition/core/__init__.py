"""The shared core: what every job needs, and nothing that belongs to one job.

Nothing here imports from `attrition.train`, `attrition.serve` or `attrition.monitor`
(tests/unit/test_layout.py checks it).
"""
