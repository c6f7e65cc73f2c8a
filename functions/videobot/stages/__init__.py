"""The pipeline's stages, one module per state (or group of states) of
statemachine/video_pipeline.asl.json, named like the state and its function folder. Which
module serves which state, and from which function, is the stage table of
docs/architecture.md (tests/unit/test_docs.py checks it against the ASL and template.yaml).

Every stage takes the runtime (videobot.runtime) and ids, reads and writes PostgreSQL and
storage, and returns a small dict. Each is idempotent: a retried invocation finds its earlier
work in the rows and does not call a vendor (or send a message) again."""
