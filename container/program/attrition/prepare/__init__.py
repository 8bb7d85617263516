"""The `prepare` job: an HR export checked, profiled and split into train, validation and test."""
