"""Each function as Lambda runs it, on this machine: its own environment (template.yaml after
SAM's translation, local/stack.py), its secrets in moto's Secrets Manager named by the same
`*_SECRET_ARN` variables, and its role's policies judging every AWS call it makes (local/iam.py).

The laptop's settings (`base`: .env, a test's fakes) are the local deploy's parameters: they
win over the template's values, but for what the rehearsal is about:
- a provider the template sets to "none" stays "none" (a function that reaches a vendor it was
  not given fails, as on AWS); any other is the laptop's choice (offline, or a vendor's fake);
- a path into a layer (/opt, FFMPEG_PATH) is left to the local default (imageio-ffmpeg's
  binary, from the same wheel the layer is built from);
- a key or the database URL never reaches a function as a plain value: it is written into the
  secret the template names, and `videobot.secrets` reads it from there, as on AWS;
- the media bucket is the local media folder (MEDIA_DIR), unless the laptop names a bucket
  (MEDIA_BUCKET, on moto's S3): then the template's bucket is that one, and every S3 call is
  judged against the policies as well.

The database secret: the template's "existing database" shape (ExistingDatabaseUrl) keeps the
URL in DatabaseUrlSecret, which holds the embedded PostgreSQL's URL here. The RDS shape's secret
(username and password, `sslmode=require`) cannot be served by the embedded server, which
listens on a Unix socket without a password or TLS (docs/deploy.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local.iam import Principal, current_principal
from local.stack import LocalStack
from videobot import config
from videobot.secrets import SECRET_ARN_SUFFIX

# The settings a local deploy never passes as plain values: each comes from its secret.
SECRET_SETTINGS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "OPENAI_API_KEY",
    "RUNWAYML_API_SECRET",
    "DATABASE_URL",
)
# The template's secrets and the template parameter each is made from (WebhookSecret is generated).
SECRET_PARAMETERS = {
    "TelegramBotTokenSecret": "TelegramBotToken",
    "OpenAIApiKeySecret": "OpenAIApiKey",
    "RunwayApiSecretSecret": "RunwayApiSecret",
    "DatabaseUrlSecret": "ExistingDatabaseUrl",
}
GENERATED_WEBHOOK_SECRET = "local-webhook-secret-token"


@dataclass
class LocalFunctions:
    """The deployed functions' environments and roles, with their secrets made in moto (call
    `create_secrets` inside mock_aws, then `bind` the state machine's ARN once it exists)."""

    stack: LocalStack = field(default_factory=LocalStack)
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> the ARN moto gave it
    _template_env: dict[str, dict[str, str]] = field(default_factory=dict)
    _laptop: dict[frozenset, Any] = field(default_factory=dict)  # the laptop's settings -> its providers
    _principals: dict[str, Principal] = field(default_factory=dict)

    def bind(self, **physical: str) -> None:
        """Name local resources (a logical id, or `<id>.<Attribute>`) by their physical ids."""
        self.stack.physical.update(physical)
        self._template_env.clear()
        self._principals.clear()

    def template_environment(self, function: str) -> dict[str, str]:
        if function not in self._template_env:
            self._template_env[function] = self.stack.environment(function)
        return self._template_env[function]

    def create_secrets(self, secretsmanager: Any, base: Mapping[str, str]) -> None:
        """Each AWS::SecretsManager::Secret of the template, in moto, holding the laptop's value of
        the setting it stands for (else the template parameter's local value)."""
        for logical_id in self.stack.of_type("AWS::SecretsManager::Secret"):
            value = self._secret_value(logical_id, base)
            name = f"{self.stack.ref('AWS::StackName')}/{logical_id}"
            try:
                arn = secretsmanager.create_secret(Name=name, SecretString=value)["ARN"]
            except secretsmanager.exceptions.ResourceExistsException:
                arn = secretsmanager.put_secret_value(SecretId=name, SecretString=value)["ARN"]
            self.secrets[logical_id] = arn
        self.bind(**self.secrets)

    def _secret_value(self, logical_id: str, base: Mapping[str, str]) -> str:
        setting = self._setting_of(logical_id)
        if setting and base.get(setting):
            return base[setting]
        if logical_id in SECRET_PARAMETERS:
            return self.stack.ref(SECRET_PARAMETERS[logical_id])
        return GENERATED_WEBHOOK_SECRET

    def _setting_of(self, logical_id: str) -> str | None:
        """The setting a secret holds: the variable that names it, less _SECRET_ARN."""
        arn = self.stack.ref(logical_id)
        for function in self.stack.functions():
            for name, value in self.template_environment(function).items():
                if value == arn and name.endswith(SECRET_ARN_SUFFIX):
                    return name[: -len(SECRET_ARN_SUFFIX)]
        return None

    def update_secrets(self, secretsmanager: Any, base: Mapping[str, str]) -> bool:
        """Write the laptop's values into the secrets again (a test's fake key); True if one changed."""
        changed = False
        for logical_id, arn in self.secrets.items():
            value = self._secret_value(logical_id, base)
            if secretsmanager.get_secret_value(SecretId=arn)["SecretString"] != value:
                secretsmanager.put_secret_value(SecretId=arn, SecretString=value)
                changed = True
        return changed

    def environment(self, function: str, base: Mapping[str, str]) -> dict[str, str]:
        """The function's environment for a run here (the module's rules)."""
        template = self.template_environment(function)
        env = {k: v for k, v in base.items() if k not in SECRET_SETTINGS}
        env.update({k: v for k, v in template.items() if k.endswith(SECRET_ARN_SUFFIX)})
        for name, value in template.items():
            env.setdefault(name, value)
        laptop = self.laptop_providers(base)
        for name, (field_name, _) in config.PROVIDERS.items():
            declared = template.get(name)
            if declared is not None:
                env[name] = "none" if declared == "none" else getattr(laptop, field_name)
        if not base.get("MEDIA_BUCKET"):
            env.pop("MEDIA_BUCKET", None)  # the local media folder (module doc)
        for name, value in template.items():  # a layer's file (/opt): here the wheel's (imageio-ffmpeg)
            if value.startswith("/opt/") and not base.get(name):
                env.pop(name)
        return env

    def laptop_providers(self, base: Mapping[str, str]) -> Any:
        """The providers the laptop's settings choose (offline without keys, a fake's vendor)."""
        key = frozenset(base.items())
        if key not in self._laptop:
            self._laptop = {key: config.settings_from_environ(base).providers}
        return self._laptop[key]

    def principal(self, logical_id: str) -> Principal:
        """The role `logical_id` (a function or the state machine) runs as."""
        if logical_id not in self._principals:
            role = self.stack.role_of(logical_id)
            self._principals[logical_id] = Principal(
                role, self.stack.role_arn(role), tuple(self.stack.statements(role))
            )
        return self._principals[logical_id]

    def redeployed(self, template: Mapping) -> LocalFunctions:
        """The same local resources (secrets, state machine) with another template's functions."""
        there = LocalFunctions(LocalStack(template, physical=self.stack.physical), dict(self.secrets))
        return there

    def handlers(self) -> dict[str, str]:
        return {function: self.stack.handler(function) for function in self.stack.functions()}


def secrets_cache_per_function() -> Any:
    """Give each function its own Powertools secrets cache, as each Lambda sandbox has its own:
    in one process, a secret one function fetched would otherwise be served from the cache to
    another, which then never makes (nor is judged for) the GetSecretValue its role may not
    make. Returns the provider (installed again if something cleared Powertools' caches)."""
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS
    from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

    class PerFunctionSecrets(SecretsProvider):
        @property
        def store(self) -> dict:
            principal = current_principal()
            return self._stores.setdefault(principal.name if principal else "", {})

        @store.setter
        def store(self, value: dict) -> None:
            self._stores: dict[str, dict] = {}

        def clear_cache(self) -> None:
            self._stores.clear()

    provider = DEFAULT_PROVIDERS.get("secrets")
    if type(provider).__name__ != "PerFunctionSecrets":
        provider = DEFAULT_PROVIDERS["secrets"] = PerFunctionSecrets()
    return provider
