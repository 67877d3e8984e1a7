"""CloudFormation templates: a safe loader (JSON, YAML with short-form intrinsic tags) and a
static resolver for the intrinsic functions whose value is known without deploying."""
