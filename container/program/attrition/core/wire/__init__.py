"""What crosses the wire in SageMaker's formats: request and response bodies, data capture,
ground truth.
"""
