"""An HR export as a table: raw values, compact columns, CSV text, the schema and the feature
matrix LightGBM reads.
"""
