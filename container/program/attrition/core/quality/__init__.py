"""How good and how fair a model is: classification metrics, calibration, Clarify's bias
metrics, Model Monitor's baseline.
"""
