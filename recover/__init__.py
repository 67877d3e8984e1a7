"""recover: guided runbooks for stuck AWS CloudFormation and CDK deployments."""

__version__ = "0.1.0"
