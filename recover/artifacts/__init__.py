"""Missing Lambda code objects: find the exact keys, find the bytes, verify, restore safely.

- find.py    (gather) which bucket/key/version each failed function wants, from CloudTrail
             failures of UpdateFunctionCode/CreateFunction, and the expected CodeSha256 from
             the function's code history;
- sources.py (gather) where the bytes can still be found: a previous S3 version behind a
             delete marker, code still deployed in a function or a published version
             (GetFunction), a CDK cdk.out asset, a file or folder the engineer names;
- choose.py  (decide) pick a source per artifact: exact SHA-256 match first, by order of trust;
- restore.py (act)    the calls: CopyObject/PutObject with If-None-Match: * (never overwrite).
"""
