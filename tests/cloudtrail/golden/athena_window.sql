SELECT eventid, eventtime, eventname, eventsource, awsregion, recipientaccountid,
       errorcode, errormessage, requestparameters,
       useridentity.type AS "useridentity_type",
       useridentity.principalid AS "useridentity_principalid",
       useridentity.arn AS "useridentity_arn",
       useridentity.accountid AS "useridentity_accountid",
       useridentity.invokedby AS "useridentity_invokedby"
FROM "AwsDataCatalog"."cloudtrail_db"."cloudtrail_logs_pp"
WHERE eventsource = 'lambda.amazonaws.com'
  AND regexp_like(eventname, '^(UpdateFunctionCode|CreateFunction|PublishLayerVersion)[0-9]{8}(v[0-9]+)?$')
  AND errormessage LIKE '%S3 Error Code: NoSuchKey%'
  AND eventtime >= '2026-11-20T08:00:00Z'
  AND eventtime <= '2026-11-23T10:30:00Z'
  AND "timestamp" >= '2026/11/20'
  AND "timestamp" <= '2026/11/24'
  AND awsregion IN ('eu-west-1', 'us-east-1')
  AND recipientaccountid IN ('123456789012')
ORDER BY eventtime, eventid
