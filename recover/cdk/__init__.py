"""Facts about the AWS CDK that recover relies on (bootstrap template, naming)."""
