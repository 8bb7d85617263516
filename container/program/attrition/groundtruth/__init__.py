"""The groundtruth job: an HR export of who left, turned into ground truth for the captured predictions."""
