"""The `evaluate` job: a trained model scored on a test split nobody trained on."""
