"""MigrateDatabase: the CloudFormation custom resource that applies migrations on every deploy."""

from videobot import runtime
from videobot.deploy_hooks import handle_migrations
from videobot.migrate import migrate


def lambda_handler(event: dict, context=None) -> dict:
    # the runtime (its settings, its database) is built inside the call: a failure answers FAILED
    return handle_migrations(event, context, migrate=lambda: migrate(runtime.current().db))
