"""Static evaluation of CloudFormation templates (parsing lives in recover.model.cfn_template)."""
