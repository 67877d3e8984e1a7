"""Everything that talks to AWS through boto3 lives under recover.aws (gather) or
recover.executor (act). Nothing else imports boto3."""
