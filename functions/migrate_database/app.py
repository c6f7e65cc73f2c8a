"""MigrateDatabase: the CloudFormation custom resource that applies migrations on every deploy."""

from videobot.deploy_hooks import handle_migrations


def lambda_handler(event: dict, context=None) -> dict:
    return handle_migrations(event, context)
