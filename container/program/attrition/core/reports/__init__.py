"""What people read and sign: the pages' shared style, the model card, the technical
documentation.
"""
