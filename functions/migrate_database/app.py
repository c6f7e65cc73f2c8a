"""MigrateDatabase: the CloudFormation custom resource that applies migrations on every deploy."""

from collections.abc import Callable

from videobot.deploy_hooks import handle_migrations
from videobot.entry import process_runtime
from videobot.migrate import migrate
from videobot.runtime import Runtime


def migrations(runtime: Callable[[], Runtime], event: dict, context=None) -> dict:
    """The runtime (its settings, its database) is built inside the migration, so that a
    configuration that fails still answers CloudFormation (FAILED) instead of leaving the
    stack waiting."""
    return handle_migrations(event, context, migrate=lambda: migrate(runtime().db))


def lambda_handler(event: dict, context=None) -> dict:
    return migrations(process_runtime, event, context)
