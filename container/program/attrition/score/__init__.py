"""The `score` job: batch predictions for a folder of CSV files, as Batch Transform writes them."""
