"""Shared code for every stage of the video pipeline.

`functions/` is the Lambda CodeUri; each stage's thin handler lives in
`functions/<stage_name>/app.py` and calls into this package.
"""
