"""The `monitor` job: a window of captured traffic compared with the training baseline."""
