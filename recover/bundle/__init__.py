"""The postmortem bundle behind `recover evidence STACK` (docs/reference/evidence.md, issue 8).

collect (gather: AWS, CloudTrail, evidence folders) → relate / timeline / summary (pure) →
redact (pure) → render_md / render_html → write (zip or folder, manifest, owner-only perms).
"""

BUNDLE_SCHEMA_VERSION = 1
