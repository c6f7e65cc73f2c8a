"""Run the whole pipeline on this machine: embedded PostgreSQL (or DATABASE_URL), media in a
local folder (or S3 when MEDIA_BUCKET is set), the ASL from statemachine/ executed by moto's
interpreter, and every Task reaching its handler in-process through LambdaEndpoint.

It rehearses the deployed stack (local/functions.py, docs/deploy.md): each function runs with
its own environment from template.yaml after SAM's translation, reads its keys and the
database URL from moto's Secrets Manager through the `*_SECRET_ARN` variables, and every AWS
call it makes is checked against its role's policies (local/iam.py), as are the state
machine's invocations and the EventBridge rule's; a denied call fails with AccessDenied."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import child_executions, interpreter
from local import template as tpl
from local.cloudformation import CloudFormation
from local.environment import LocalRuntime
from local.functions import LocalFunctions, secrets_cache_per_function
from local.iam import AccessDenied, PolicyCheck, state_machine_acts_as
from local.lambda_endpoint import Handler, LambdaEndpoint, import_handler
from local.stack import LocalStack, matches_pattern
from local.template import ROOT, load_template
from local.workers import FunctionPool
from videobot import config
from videobot.data.db import Database
from videobot.data.rows import Gate, Job
from videobot.entry import LambdaHandler

DEFAULT_DATA_DIR = ROOT / ".local"

# moto's interpreter logs each expected miss (an IsPresent choice on an absent path, the
# Catch of a rejected gate) with its stack trace at ERROR; for the user those are no crash.
INTERPRETER_LOGGER = "moto.stepfunctions.parser"
INTERPRETER_LOG = "stepfunctions-interpreter.log"


SLOW_UPDATE = "HandleSlowUpdateFunction"  # invoked by the webhook with InvocationType=Event
# The reconciler's schedule: rate(1 minute) on AWS (template.yaml, MessagesSweep); more often here,
# where a job runs in minutes (a question is asked again after its backoff all the same).
SWEEP_SECONDS = 10.0
# Children of ended parents are looked for when an execution ends, and at least this often.
ORPHAN_CHECK_SECONDS = 2.0
RECONCILER = "ReconcileExecutionFunction"  # the EventBridge rule's target
MIGRATIONS = "MigrateDatabaseFunction"  # the custom resource DatabaseMigrations' ServiceToken
MIGRATIONS_HANDLER = "migrate_database.app.lambda_handler"


def keep_interpreter_logs_out_of_the_terminal(data_dir: Path) -> Path | None:
    """Send moto's interpreter log to `<data_dir>/stepfunctions-interpreter.log` (nothing on
    the terminal), unless LOG_LEVEL=DEBUG asks for everything. Returns the file, or None."""
    log = logging.getLogger(INTERPRETER_LOGGER)
    if "DEBUG" in (os.environ.get("LOG_LEVEL", "").upper(), os.environ.get("POWERTOOLS_LOG_LEVEL", "").upper()):
        log.propagate = True
        return None
    path = data_dir / INTERPRETER_LOG
    if not any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path for h in log.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
    log.propagate = False
    return path


# A gate decider: (job row, gate row) -> True to approve, False to reject, None to wait.
Decider = Callable[[Job, Gate], "bool | None"]


def approve_all(job: Job, gate: Gate) -> bool:
    return True


def start_embedded_postgres(data_dir: Path) -> tuple[object, str]:
    import pgserver

    pgdata = data_dir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(pgdata))
    return server, server.get_uri()


def _handler(path: str) -> LambdaHandler:
    """A function's handler (template.yaml's Handler): each is a videobot.entry.LambdaHandler."""
    handler = import_handler(path)
    if not isinstance(handler, LambdaHandler):
        raise TypeError(f"{path} is not a videobot.entry.LambdaHandler")
    return handler


@dataclass
class JobOutcome:
    job: Job
    execution_status: str
    history: list[dict] = field(default_factory=list)  # the execution's events
    children: list[list[dict]] = field(default_factory=list)  # each child execution's events


class LocalPipeline:
    """`with LocalPipeline() as p: p.run_job("Реклама кофе")`

    The functions run with the settings of `environ` (this process's environment unless given)
    and `env` on top, by their environment names; the pipeline adds what it starts (the
    database unless DATABASE_URL names one, the media folder, the state machine). `db` shares a
    database the caller holds. `rt` is the laptop's runtime: each function's handler is given
    one built from it and the function's own environment (`function_runtime`), with the parts
    `rt` was given (a test's fault injection). `template`: a copy of template.yaml to deploy
    instead of the file (a test removes a grant)."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        env: dict[str, str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        db: Database | None = None,
        template: dict | None = None,
        workers: bool = False,
        worker_log: str | Path | None = None,
    ):
        self.data_dir = Path(data_dir or os.environ.get("LOCAL_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
        self.env = env or {}
        self.environ = dict(os.environ if environ is None else environ)
        self._db = db
        self.template = template
        self.workers = workers  # each function in its own warm worker processes (local/workers.py)
        self.worker_log = worker_log  # where the workers' output goes (else where the runner's does)
        self.pools: dict[str, FunctionPool] = {}
        self._moto_server: Any = None  # moto's server, for the workers (they share this process's moto)
        self._in_process: dict[str, Handler] = {}
        self.rt: LocalRuntime | None = None
        self.functions: LocalFunctions | None = None  # the deployed functions' environments and roles
        self.policy_check = PolicyCheck()  # every AWS call a function makes, judged by its role
        self._function_runtimes: dict[str, tuple[LocalRuntime, LocalRuntime]] = {}
        self._runtimes_lock = threading.Lock()
        self._secrets_of: LocalRuntime | None = None  # the runtime whose values the secrets hold
        self.cloudformation: CloudFormation | None = None  # sends the custom resource's requests
        self._saved_env: dict[str, str | None] = {}
        self._pg: Any = None  # pgserver's server
        self.endpoint: LambdaEndpoint | None = None
        self._mock: Any = None  # moto's mock_aws
        self.sfn: Any = None  # boto3's Step Functions client, on moto
        self.interpreter_log: Path | None = None
        self.state_machine_arn: str | None = None
        self.state_machine_arns: dict[str, str] = {}  # logical id -> ARN: the pipeline and its child
        self.reconciler: Handler | None = None  # the ReconcileExecutionFunction's handler
        self.delivered: dict[str, dict] = {}  # execution ARN -> the event delivered for it
        self._deliver_lock = threading.Lock()
        self._watching = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def _setenv(self, key: str, value: str) -> None:
        if key not in self._saved_env:
            self._saved_env[key] = os.environ.get(key)
        os.environ[key] = value

    def start(self) -> LocalPipeline:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.interpreter_log = keep_interpreter_logs_out_of_the_terminal(self.data_dir)
        environ = {**self.environ, **self.env}
        for key, value in self.env.items():  # what is not a setting is for the libraries (boto3, Powertools)
            if key not in config.setting_names():
                self._setenv(key, value)
        if not environ.get("DATABASE_URL") and self._db is None:
            self._pg, environ["DATABASE_URL"] = start_embedded_postgres(self.data_dir)
        if not environ.get("MEDIA_BUCKET"):
            environ["MEDIA_DIR"] = environ.get("MEDIA_DIR") or str(self.data_dir / "media")
        environ["OFFLINE_SPOOL_DIR"] = environ.get("OFFLINE_SPOOL_DIR") or str(self.data_dir / "offline-tasks")
        for key, value in {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": tpl.REGION,
            "AWS_REGION": tpl.REGION,
        }.items():
            self._setenv(key, value)
        self._setenv("POWERTOOLS_METRICS_DISABLED", os.environ.get("POWERTOOLS_METRICS_DISABLED") or "1")
        self.rt = LocalRuntime(environ, db=self._db)

        template = self.template if self.template is not None else load_template()
        self.functions = LocalFunctions(LocalStack(template))
        # the state machine's functions, and the webhook's asynchronous worker
        invoked = {**tpl.pipeline_functions(template), SLOW_UPDATE: tpl.functions(template)[SLOW_UPDATE]}
        handlers: dict[str, Handler] = {name: self.as_function(name, _handler(path)) for name, path in invoked.items()}
        handlers[MIGRATIONS] = self._migrations_function()
        timeouts = tpl.function_timeouts(template)
        self.endpoint = LambdaEndpoint(handlers, {name: timeouts[name] for name in handlers}).start()
        self._setenv("AWS_ENDPOINT_URL_LAMBDA", self.endpoint.url)

        import boto3
        from moto import mock_aws

        self.policy_check.install()
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        secrets_base = {**environ, "DATABASE_URL": environ.get("DATABASE_URL") or self.rt.db.url or ""}
        self.functions.create_secrets(boto3.client("secretsmanager"), secrets_base)
        if environ.get("MEDIA_BUCKET") and not os.environ.get("AWS_ENDPOINT_URL_S3"):
            boto3.client("s3").create_bucket(Bucket=environ["MEDIA_BUCKET"])
        if environ.get("MEDIA_BUCKET"):
            self.functions.bind(MediaBucket=environ["MEDIA_BUCKET"])
        self.sfn = boto3.client("stepfunctions")
        self.state_machine_arns = child_executions.create_state_machines(self.sfn, template)
        self.state_machine_arn = self.state_machine_arns[child_executions.PIPELINE]
        self.functions.bind(
            **self.state_machine_arns,
            **{f"{name}.Name": arn.rsplit(":", 1)[1] for name, arn in self.state_machine_arns.items()},
        )
        self._state_machines_act_as(self.functions)
        self.rt = self.rt.with_env(STATE_MACHINE_ARN=self.state_machine_arn, SLOW_UPDATE_FUNCTION_NAME=SLOW_UPDATE)
        self.reconciler = self.as_function(RECONCILER, _handler(tpl.functions(template)[RECONCILER]))
        self._in_process = dict(self.endpoint.handlers)
        if self.workers:
            self.use_workers(list(self.endpoint.handlers))
        # the deploy's custom resource applies the migrations, as `sam deploy` does
        self.cloudformation = CloudFormation(self.functions.stack, self.invoke_event)
        self.cloudformation.request("DatabaseMigrations", "Create")
        self._watching.set()
        self._watcher = threading.Thread(target=self._watch, name="execution-events", daemon=True)
        self._watcher.start()
        return self

    # -- EventBridge, as AWS delivers it -----------------------------------------------------

    def _watch(self, interval: float = 1.0) -> None:
        """Like the EventBridge rules: every execution that ends FAILED, TIMED_OUT or ABORTED
        reaches the reconciler, also those no one waits for (`make serve`); and, as its
        schedule does on AWS (every minute), the reconciler's sweep runs every
        SWEEP_SECONDS."""
        swept = orphans_checked = time.monotonic()
        ends_seen = -1
        while self._watching.is_set():
            try:
                self.deliver_execution_events()
                # a child is orphaned only when its parent ends: look when an execution has
                # ended since the last look (and every ORPHAN_CHECK_SECONDS, for a child that
                # started as its parent was ending)
                ends = interpreter.ENDS.count
                if ends != ends_seen or time.monotonic() - orphans_checked >= ORPHAN_CHECK_SECONDS:
                    ends_seen, orphans_checked = ends, time.monotonic()
                    child_executions.stop_orphaned_children(self.sfn, self.state_machine_arns)
                if time.monotonic() - swept >= SWEEP_SECONDS:
                    swept = time.monotonic()
                    self.deliver_scheduled_event()
            except Exception as exc:  # noqa: BLE001 - delivered again on the next round
                logging.getLogger(__name__).warning("execution events not delivered: %s: %s", type(exc).__name__, exc)
            time.sleep(interval)

    def deliver_scheduled_event(self) -> object:
        """The reconciler's schedule ("Scheduled Event"): its sweep, once."""
        if self.reconciler is None:
            return None
        event = {
            "version": "0",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": tpl.ACCOUNT,
            "region": tpl.REGION,
            "detail": {},
        }
        return self.reconciler(event, None)

    def deliver_execution_events(self) -> list[dict]:
        """Deliver "Step Functions Execution Status Change" for each ended execution not yet
        delivered, once (a handler failure is delivered again, as EventBridge retries)."""
        from videobot.data import jobs

        rt, reconcile = self.runtime, self.reconciler
        delivered: list[dict] = []
        if reconcile is None:
            return delivered
        with self._deliver_lock:
            pages = self.sfn.get_paginator("list_executions").paginate(stateMachineArn=self.state_machine_arn)
            for page in pages:
                for ex in page["executions"]:
                    if ex["status"] not in ("FAILED", "TIMED_OUT", "ABORTED") or ex["executionArn"] in self.delivered:
                        continue
                    if jobs.find_job(rt.db, ex["name"]) is None:
                        self.delivered[ex["executionArn"]] = {}
                        continue
                    event = self._status_change_event(ex)
                    self._deliver_by_rule(event, reconcile)
                    self.delivered[ex["executionArn"]] = event
                    delivered.append(event)
        return delivered

    def _deliver_by_rule(self, event: dict, reconcile: Handler) -> None:
        """As EventBridge delivers: to the target of each rule whose pattern matches the event,
        when the target's resource policy lets events.amazonaws.com invoke it from that rule."""
        functions = self._deployed
        for rule in functions.stack.event_rules():
            if not matches_pattern(rule.pattern, event):
                continue
            for target in rule.targets:
                name = target.split(":function:")[-1]
                if name != RECONCILER:
                    raise AccessDenied(
                        f"the rule {rule.logical_id} targets {name}, which the local runner does not run"
                    )
                rule_arn = functions.stack.get_att(rule.logical_id, "Arn")
                if not any(
                    p["Principal"] == "events.amazonaws.com" and p.get("SourceArn") in (None, rule_arn)
                    for p in functions.stack.invoke_permissions(name)
                ):
                    raise AccessDenied(f"no permission lets events.amazonaws.com invoke {name} from {rule.logical_id}")
                reconcile(event, None)

    def _status_change_event(self, ex: dict) -> dict:
        described = self.sfn.describe_execution(executionArn=ex["executionArn"])
        return {
            "version": "0",
            "id": ex["executionArn"],
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": tpl.ACCOUNT,
            "region": tpl.REGION,
            "resources": [ex["executionArn"]],
            "detail": {
                "executionArn": ex["executionArn"],
                "stateMachineArn": self.state_machine_arn,
                "name": ex["name"],
                "status": ex["status"],
                "error": described.get("error"),
                "cause": described.get("cause"),
            },
        }

    def stop(self) -> None:
        self._watching.clear()
        if self._watcher:
            self._watcher.join(timeout=30)
            self._watcher = None
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()
        if self._moto_server is not None:
            self._moto_server.stop()
            self._moto_server = None
        if self._mock:
            self._mock.stop()
            self._mock = None
        if self.endpoint:
            self.endpoint.stop()
            self.endpoint = None
        if self.rt is not None and self._db is None:
            self.rt.db.close()  # a database the caller gave stays open
        self.rt = None
        self._function_runtimes.clear()
        self._secrets_of = None
        self.policy_check.uninstall()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None

    def __enter__(self) -> LocalPipeline:
        return self.start()

    # -- the runtime the handlers are given ----------------------------------------------------

    @property
    def runtime(self) -> LocalRuntime:
        if self.rt is None:
            raise RuntimeError("the pipeline is not running")
        return self.rt

    @property
    def _deployed(self) -> LocalFunctions:
        if self.functions is None:
            raise RuntimeError("the pipeline is not running")
        return self.functions

    def as_function(self, name: str, handler: LambdaHandler) -> Callable[[dict, Any], dict]:
        """`handler` as Lambda runs the function `name`: with its own runtime (its environment
        from the template, its secrets read from moto), and every AWS call it makes checked
        against its role."""

        def invoke(event: dict, context: Any) -> dict:
            with self.policy_check.acting_as(self._deployed.principal(name)):
                return handler.run(self.function_runtime(name), event, context)

        return invoke

    def _migrations_function(self) -> Handler:
        """MigrateDatabaseFunction's handler with its own runtime: `migrate_database.app` builds it
        inside its guarded call, from this function's environment (its secrets included)."""
        from migrate_database.app import migrations

        from videobot.deploy_hooks import handle_migrations

        def invoke(event: dict, context: Any) -> dict:
            with self.policy_check.acting_as(self._deployed.principal(MIGRATIONS)):
                return handle_migrations(event, context, migrate=migrations(lambda: self.function_runtime(MIGRATIONS)))

        return invoke

    @contextmanager
    def deployed(self, template: dict) -> Iterator[LocalFunctions]:
        """Run a block with another template's functions (environments, roles, rules) on the
        same local resources: e.g. a copy with one grant removed."""
        previous = self._deployed
        self.functions = previous.redeployed(template)
        self._use_functions()
        try:
            yield self.functions
        finally:
            self.functions = previous
            self._use_functions()

    # -- warm worker processes ---------------------------------------------------------------

    def use_workers(self, names: list[str]) -> dict[str, FunctionPool]:
        """Run these functions in warm worker processes, pooled per function (local/workers.py)."""
        endpoint = self._endpoint
        for name in names:
            if name not in self.pools:
                self.pools[name] = self._pool(name)
            endpoint.handlers[name] = self.pools[name]
        return {name: self.pools[name] for name in names}

    def use_in_process(self, names: list[str] | None = None) -> None:
        """Back to in-process handlers (a test's fault injection needs them); their workers end."""
        for name in list(self.pools) if names is None else names:
            self._endpoint.handlers[name] = self._in_process[name]
            self.pools.pop(name).close()

    @contextmanager
    def in_workers(self, names: list[str]) -> Iterator[dict[str, FunctionPool]]:
        pools = self.use_workers(names)
        try:
            yield pools
        finally:
            self.use_in_process(names)

    def _pool(self, name: str) -> FunctionPool:
        from moto.server import ThreadedMotoServer

        from local.workers import start_fork_server

        if self._moto_server is None:
            start_fork_server()
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
            self._moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._moto_server.start()
        host, port = self._moto_server.get_host_and_port()
        functions = self._deployed
        with self.policy_check.as_the_runner():
            environ = {
                **{
                    k: v for k, v in os.environ.items() if k.startswith(("AWS_", "POWERTOOLS_", "PATH", "HOME", "LANG"))
                },
                **functions.environment(name, self.runtime.environ),
                "AWS_ENDPOINT_URL": f"http://{host}:{port}",
                "AWS_ENDPOINT_URL_LAMBDA": self._endpoint.url,
                "AWS_LAMBDA_FUNCTION_NAME": name,
            }
        path = MIGRATIONS_HANDLER if name == MIGRATIONS else self._deployed.stack.handler(name)
        return FunctionPool(
            name,
            path,
            environ,
            functions.principal(name),
            on_denied=self.policy_check.record,
            log_path=self.worker_log,
        )

    @property
    def _endpoint(self) -> LambdaEndpoint:
        if self.endpoint is None:
            raise RuntimeError("the pipeline is not running")
        return self.endpoint

    def _state_machines_act_as(self, functions: LocalFunctions) -> None:
        """Each state machine's Tasks invoke as its own role (the pipeline's, its child's)."""
        state_machine_acts_as({arn: functions.principal(name) for name, arn in self.state_machine_arns.items()})

    def cold_start(self) -> None:
        """Every function starts again in a new sandbox: its runtime built and its secrets read anew."""
        with self._runtimes_lock:
            self._function_runtimes.clear()
            secrets_cache_per_function().clear_cache()

    def _use_functions(self) -> None:
        functions = self._deployed
        self.cold_start()
        self._state_machines_act_as(functions)
        if self.cloudformation is not None:
            self.cloudformation.stack = functions.stack

    def invoke_event(self, name: str, event: dict) -> None:
        """Invoke a function asynchronously through the Lambda API (as CloudFormation and
        EventBridge do)."""
        import boto3

        boto3.client("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event).encode())

    def function_runtime(self, name: str) -> LocalRuntime:
        """The runtime the function `name` is given: built, as on AWS, from its own environment
        (local/functions.py), on the laptop's runtime (`rt`: its settings, database and parts)."""
        base = self.runtime
        cached = self._function_runtimes.get(name)
        # rebuilt when the laptop's runtime changed, or a part given to it (a test's replace_part)
        if cached is not None and cached[0] is base and cached[1].given_parts == base.given_parts:
            return cached[1]
        functions = self._deployed
        with self._runtimes_lock, self.policy_check.as_the_runner():
            secrets = secrets_cache_per_function()
            if self._secrets_of is not base:  # the laptop's keys (a test's fake's) into the secrets
                import boto3

                if functions.update_secrets(boto3.client("secretsmanager"), base.environ):
                    secrets.clear_cache()  # a secret's new value, as a new Lambda sandbox reads it
                self._secrets_of = base
            env = functions.environment(name, base.environ)
            with self.policy_check.acting_as(functions.principal(name)):
                rt = LocalRuntime(env, db=base.db, parts=base.given_parts)
        self._function_runtimes[name] = (base, rt)
        return rt

    def runtime_with(self, **changes: str | None) -> LocalRuntime:
        """The pipeline's runtime with some settings changed (by environment name)."""
        return self.runtime.with_env(**changes)

    @contextmanager
    def using(self, rt: LocalRuntime) -> Iterator[LocalRuntime]:
        """Give the handlers `rt` for a block (e.g. a vendor's settings, a part replaced)."""
        previous, self.rt = self.rt, rt
        try:
            yield rt
        finally:
            self.rt = previous

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- jobs -------------------------------------------------------------------------------

    def start_job(self, topic: str, *, user_id: int = 1, chat_id: int = 1, **kwargs) -> Job:
        """kwargs: aspect_ratio, source_update_id, job_id, overrides (see control.start_job)."""
        from videobot import control

        job, _ = control.start_job(self.runtime, user_id=user_id, chat_id=chat_id, prompt=topic, **kwargs)
        return job

    def execution(self, job: Job) -> dict:
        return self.sfn.describe_execution(executionArn=job.execution_arn)

    def history(self, job: Job) -> list[dict]:
        """The job's execution's events (its children's are `child_histories`)."""
        return [] if job.execution_arn is None else child_executions.history(self.sfn, job.execution_arn)

    def child_executions(self, job: Job) -> list[str]:
        """The child executions (a segment's image or clip) the job's execution started, oldest
        first."""
        if job.execution_arn is None:
            return []
        return child_executions.children_of(self.sfn, self.state_machine_arns, job.execution_arn)

    def child_histories(self, job: Job) -> list[list[dict]]:
        """The events of each child execution the job's execution started (a segment's image or
        clip: local/child_executions.py), oldest first."""
        return [child_executions.history(self.sfn, child) for child in self.child_executions(job)]

    def entered(self, job: Job) -> list[str]:
        """The states the job's execution entered, then each child's."""
        return state_names([self.history(job), *self.child_histories(job)])

    def wait(
        self,
        job_id: str,
        decider: Decider | None = approve_all,
        *,
        timeout: float = 600,
        on_tick: Callable[[Job], None] | None = None,
        interval: float = 0.2,
    ) -> JobOutcome:
        """Drive a job to its end, answering each approval gate with `decider`."""
        from videobot import control
        from videobot.data import gates, jobs

        rt = self.runtime
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = jobs.get_job(rt.db, job_id)
            if on_tick:
                on_tick(job)
            status = self.execution(job)["status"]
            if status != "RUNNING":
                # moto, like AWS, lets a Lambda already invoked finish after its execution ended
                # (the voice-over beside a rejected gate): what it leaves is part of the outcome.
                self.settle(max(1.0, deadline - time.monotonic()))
                self.deliver_execution_events()  # EventBridge's event for this end, reconciled
                return JobOutcome(jobs.get_job(rt.db, job_id), status, self.history(job), self.child_histories(job))
            gate = gates.open_gate_for_job(rt.db, job_id)
            if gate and decider is not None:
                job = jobs.get_job(rt.db, job_id)  # read after the gate: the row read above may predate it
                verdict = decider(job, gate)
                if verdict is not None:
                    control.decide(rt, job_id, gate.id, approve=bool(verdict))
            time.sleep(interval)
        raise TimeoutError(f"job {job_id} did not finish within {timeout:.0f} s")

    def settle(self, timeout: float = 60) -> bool:
        """Wait for the Lambda invocations still running to end."""
        return self.endpoint is None or self.endpoint.wait_idle(timeout)

    def run_job(self, topic: str, decider: Decider | None = approve_all, **kwargs) -> JobOutcome:
        timeout = kwargs.pop("timeout", 600)
        job = self.start_job(topic, **kwargs)
        return self.wait(job.id, decider, timeout=timeout)


def state_names(histories: list[list[dict]]) -> list[str]:
    """Names of the states entered, in order, history after history."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for history in histories
        for event in history
        if event.get("stateEnteredEventDetails")
    ]


def execution_events(outcome: JobOutcome) -> list[str]:
    """Names of the states entered, in order: the execution's, then each child's (for tests and
    the demo's summary)."""
    return state_names([outcome.history, *outcome.children])


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)
