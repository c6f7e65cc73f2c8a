"""The local runner: the same ASL, executed by moto's Step Functions interpreter, with the
same Lambda handlers called in-process; embedded PostgreSQL; media in a local folder."""
