"""Runtimes for the local runner and the tests, built from settings named as the environment
names them (the names template.yaml and .env use), so that a run here reads its configuration
the way a function on AWS reads its own."""

from __future__ import annotations

from collections.abc import Mapping

from videobot import config
from videobot.data.db import Database
from videobot.runtime import Runtime


class LocalRuntime(Runtime):
    """A runtime from environment-style values (`environ`), which remembers them: `with_env`
    derives another with some of them changed, on this one's database and with the parts it was
    given (`parts`: e.g. a recording Step Functions client instead of boto3's)."""

    def __init__(
        self,
        environ: Mapping[str, str | None],
        *,
        db: Database | None = None,
        parts: Mapping[str, object] | None = None,
    ):
        self.environ: dict[str, str] = {k: v for k, v in environ.items() if v is not None}
        super().__init__(config.settings_from_environ(self.environ), db=db)
        self.given_parts = dict(parts or {})
        self.__dict__.update(self.given_parts)  # a part set on the instance is never built (runtime._Built)

    def with_env(self, **changes: str | None) -> LocalRuntime:
        """The same settings with `changes` (None removes a value), on the same database unless
        they name another."""
        db = None if any(name.startswith("DATABASE_") for name in changes) else self.db
        return LocalRuntime({**self.environ, **changes}, db=db, parts=self.given_parts)

    def with_parts(self, **parts: object) -> LocalRuntime:
        """The same settings with some parts given instead of built from them."""
        return LocalRuntime(self.environ, db=self.db, parts={**self.given_parts, **parts})
