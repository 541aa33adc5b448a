"""DVC pipeline stages: prepare, validate, label-merge, train, evaluate.

Kept empty of imports so that ``python -m stages --help`` stays fast.
"""
