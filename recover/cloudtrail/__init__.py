"""recover's own CloudTrail toolkit: a forgiving record model (record), streaming parsers with a
byte-level prefilter (parse), readers for local files, stdin, S3 trail buckets and LookupEvents
(sources), extractors (extract), the Athena / CloudTrail Lake scale-out path (athena), and the
scan pipeline behind `recover trail scan` (scan)."""
