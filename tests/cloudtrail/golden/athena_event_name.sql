SELECT eventid, eventtime, eventname, eventsource, awsregion, recipientaccountid,
       errorcode, errormessage, requestparameters,
       useridentity.type AS "useridentity_type",
       useridentity.principalid AS "useridentity_principalid",
       useridentity.arn AS "useridentity_arn",
       useridentity.accountid AS "useridentity_accountid",
       useridentity.invokedby AS "useridentity_invokedby"
FROM "AwsDataCatalog"."cloudtrail_db"."cloudtrail_logs_pp"
WHERE eventsource = 'lambda.amazonaws.com'
  AND eventname IN ('UpdateFunctionCode20150331v2')
  AND errormessage LIKE '%S3 Error Code: NoSuchKey%'
ORDER BY eventtime, eventid
