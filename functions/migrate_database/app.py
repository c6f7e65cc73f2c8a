"""MigrateDatabase: the CloudFormation custom resource that applies migrations on every deploy.

It must answer CloudFormation whatever happens: videobot.deploy_hooks imports only the standard
library when it is loaded, and imports the rest inside its guarded call."""

from videobot.deploy_hooks import handle_migrations


def lambda_handler(event: dict, context=None) -> dict:
    return handle_migrations(event, context)
