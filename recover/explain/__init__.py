"""Explain: what a CloudFormation / Lambda / CDK failure message means (pure, no boto3).

- taxonomy: failure modes, message kinds (cause / consequence / summary), runbooks, advice,
  what a retry can do;
- parse, fields: wrappers peeled off a paste, fields found by shape;
- rules: the rule catalog, one module per family, each rule with its explanation and examples;
- classify: a paste → Classification (the primary failure and the others).
"""
