SELECT eventID, eventTime, eventName, eventSource, awsRegion, recipientAccountId,
       errorCode, errorMessage,
       element_at(requestParameters, 'functionName') AS "rp_functionName",
       element_at(requestParameters, 'layerName') AS "rp_layerName",
       element_at(requestParameters, 's3Bucket') AS "rp_s3Bucket",
       element_at(requestParameters, 's3Key') AS "rp_s3Key",
       element_at(requestParameters, 's3ObjectVersion') AS "rp_s3ObjectVersion",
       element_at(requestParameters, 'code') AS "rp_code",
       element_at(requestParameters, 'content') AS "rp_content",
       userIdentity.type AS "useridentity_type",
       userIdentity.principalId AS "useridentity_principalid",
       userIdentity.arn AS "useridentity_arn",
       userIdentity.accountId AS "useridentity_accountid",
       userIdentity.invokedBy AS "useridentity_invokedby"
FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE
WHERE eventSource = 'lambda.amazonaws.com'
  AND regexp_like(eventName, '^(UpdateFunctionCode|CreateFunction|PublishLayerVersion)[0-9]{8}(v[0-9]+)?$')
  AND errorMessage LIKE '%S3 Error Code: NoSuchKey%'
  AND eventTime >= '2026-11-20 08:00:00'
  AND eventTime <= '2026-11-23 10:30:00'
  AND awsRegion IN ('eu-west-1', 'us-east-1')
  AND recipientAccountId IN ('123456789012')
ORDER BY eventTime, eventID
