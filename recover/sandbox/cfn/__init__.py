"""The sandbox's own CloudFormation: stacks, resources, events and the failure-state operations
moto does not implement (aws-semantics §3.8). moto's CloudFormation backend is never used."""
