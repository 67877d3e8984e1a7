"""The sandbox's own CloudFormation: stacks, resources, events and the failure-state operations
moto does not implement (docs/reference/aws-behaviour.md#what-moto-does-not-implement). moto's CloudFormation backend is never used."""
