"""MigrateDatabase: the CloudFormation custom resource that applies migrations on every deploy.

It must answer CloudFormation whatever happens: videobot.deploy_hooks imports only the standard
library when it is loaded, and `migrations` imports the rest (and builds the runtime from this
function's environment) inside its guarded call."""

from collections.abc import Callable
from typing import Any

from videobot.deploy_hooks import handle_migrations


def migrations(runtime: Callable[[], Any]) -> Callable[..., list[str]]:
    """The migrations on `runtime()`'s database, imported and built only when they run."""

    def run(deadline: float | None = None) -> list[str]:
        from videobot.migrate import migrate

        return migrate(runtime().db, deadline=deadline)

    return run


def _process_runtime() -> Any:
    from videobot.entry import process_runtime

    return process_runtime()


def lambda_handler(event: dict, context=None) -> dict:
    return handle_migrations(event, context, migrate=migrations(_process_runtime))
