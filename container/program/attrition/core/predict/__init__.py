"""A trained model and its answers: the booster, the predictors that serve it, step functions,
and retention levers.
"""
