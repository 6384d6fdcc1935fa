"""Every file under deploy/ parses, and what it says matches the code: settings names and values,
commands (run through the real ``darkroom`` parser), queue keys, ports, metric names."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from jobs.cli.main import build_parser
from jobs.cli.ops_status import parse_queues
from jobs.contract.constants import Queue
from jobs.contract.settings import Settings, load_settings
from jobs.services.admin.keys import queue_key
from tests.deploy.parsers import DEPLOY, containers, deploy_files, exec_form, k8s_docs, parse
from tests.support.stack import ROOT
from worker.cli import dramatiq_argv, worker_parser

SETTINGS_ENV = {f"DARKROOM_{name.upper()}" for name in Settings.model_fields}
COMPOSE = parse(DEPLOY / "docker-compose.yml")[0]
DOCKERFILE = parse(DEPLOY / "Dockerfile")
K8S = k8s_docs()
CONFIG = next(d for d in K8S if d["kind"] == "ConfigMap")["data"]
DEPLOYMENTS = {d["metadata"]["name"]: d for d in K8S if d["kind"] == "Deployment"}


def darkroom(argv: list[str]) -> Any:
    """Parse a ``darkroom …`` command line exactly as the CLI would; worker queues are resolved too."""
    assert Path(argv[0]).name == "darkroom", argv
    try:
        args = build_parser().parse_args(argv[1:])
        if args.command == "worker":  # `darkroom worker ARGS` runs `python -m worker ARGS`
            args = worker_parser().parse_args(args.pool_args)
            args.command = "worker"
    except SystemExit as exc:
        raise AssertionError(f"`{shlex.join(argv)}` is not a valid darkroom command") from exc
    if args.command == "worker":
        dramatiq_argv(args)  # unknown queue names raise here
    if args.command == "probe" and args.queues:
        parse_queues(args.queues)
    return args


def pool_queues(argv: list[str]) -> set[Queue]:
    args = darkroom(argv)
    assert args.command == "worker" and args.queues, argv
    return {Queue.parse(q) for q in args.queues}


def assert_one_pool_per_queue(pools: dict[str, set[Queue]]) -> None:
    seen = [q for queues in pools.values() for q in queues]
    assert sorted(seen) == sorted(Queue), f"each queue must be consumed by exactly one pool: {pools}"


def assert_valid_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(__import__("os").environ):
        if name.startswith("DARKROOM_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()  # ConfigError names the variable at fault


@pytest.mark.parametrize("path", deploy_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_file_parses(path: Path) -> None:
    assert parse(path), path


def test_every_darkroom_variable_is_a_setting() -> None:
    for path in deploy_files():
        unknown = set(re.findall(r"\bDARKROOM_[A-Z0-9_]+\b", path.read_text())) - SETTINGS_ENV
        assert not unknown, f"{path.relative_to(ROOT)}: not in jobs/contract/settings.py: {sorted(unknown)}"


def test_dockerfile_is_multistage_slim_non_root_with_a_healthcheck() -> None:
    assert len(DOCKERFILE.stages) >= 2 and all("slim" in s[0][1] for s in DOCKERFILE.stages)
    assert any("--from=build" in args for args in DOCKERFILE.final("COPY"))
    (user,) = DOCKERFILE.final("USER")
    assert user.split(":")[0] not in {"root", "0"}
    (health,) = DOCKERFILE.final("HEALTHCHECK")
    darkroom(exec_form(health.split(" CMD ", 1)[1]))
    (cmd,) = DOCKERFILE.final("CMD")
    assert darkroom(exec_form(cmd)).command == "api"
    env = DOCKERFILE.env()
    exposed = {int(p) for args in DOCKERFILE.final("EXPOSE") for p in args.split()}
    assert {int(env["DARKROOM_HTTP_PORT"]), int(env["DARKROOM_METRICS_PORT"])} == exposed


def test_compose_services_match_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    services = COMPOSE["services"]
    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and any(v.endswith(":/data") for v in services["redis"]["volumes"])
    assert "minio" in services and "darkroom" in " ".join(services["minio-init"]["command"])
    pools: dict[str, set[Queue]] = {}
    for name, service in services.items():
        command = service.get("command") or []
        if command[:1] == ["darkroom"]:
            darkroom(command)
            settings = assert_valid_settings(service["environment"], monkeypatch)
            assert settings.storage_scheme == "s3" and urlsplit(settings.redis_url).hostname == "redis"
        if command[:2] == ["darkroom", "worker"]:
            pools[name] = pool_queues(command)
            assert service["healthcheck"]["test"][1:3] == ["darkroom", "probe"]
        test = (service.get("healthcheck") or {}).get("test", [])
        if test[:2] == ["CMD", "darkroom"]:
            darkroom(test[1:])
    assert_one_pool_per_queue(pools)
    prometheus = parse(DEPLOY / "prometheus" / "prometheus.yml")[0]
    targets = {
        t for job in prometheus["scrape_configs"] for group in job["static_configs"] for t in group["targets"]
    }
    env = DOCKERFILE.env()
    assert targets == {f"api:{env['DARKROOM_HTTP_PORT']}"} | {
        f"{p}:{env['DARKROOM_METRICS_PORT']}" for p in pools
    }


def test_kubernetes_pools_probes_and_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = next(d for d in K8S if d["kind"] == "Secret")["stringData"]
    assert_valid_settings(
        {**CONFIG, **{k: v for k, v in secret.items() if k.startswith("DARKROOM_")}}, monkeypatch
    )
    pools: dict[str, set[Queue]] = {}
    for name, deployment in DEPLOYMENTS.items():
        spec = deployment["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        (container,) = containers(deployment)
        resources = container["resources"]
        assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}, name
        assert {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]} == {
            "darkroom-config", "darkroom-secrets",
        }  # fmt: skip
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        if container["command"][:2] == ["darkroom", "worker"]:
            pools[name] = pool_queues(container["command"])
            assert ports == {"metrics": int(CONFIG["DARKROOM_METRICS_PORT"])}
            for probe in ("readinessProbe", "livenessProbe"):
                assert darkroom(container[probe]["exec"]["command"]).target == "worker"
        else:
            assert darkroom(container["command"]).command == "api"
            assert ports == {"http": int(CONFIG["DARKROOM_HTTP_PORT"])}
            assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
            assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert int(annotations["prometheus.io/port"]) in ports.values()
    assert_one_pool_per_queue(pools)
    service = next(d for d in K8S if d["kind"] == "Service")
    assert (
        service["spec"]["selector"] == DEPLOYMENTS["darkroom-api"]["spec"]["template"]["metadata"]["labels"]
    )
    kustomization = parse(DEPLOY / "k8s" / "kustomization.yaml")[0]
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_every_deployment_has_exactly_one_disruption_budget() -> None:
    budgets = [d for d in K8S if d["kind"] == "PodDisruptionBudget"]
    covered: list[str] = []
    for budget in budgets:
        wanted = budget["spec"]["selector"]["matchLabels"].items()
        matches = [
            n for n, d in DEPLOYMENTS.items() if wanted <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, budget["metadata"]["name"]
        covered += matches
    assert sorted(covered) == sorted(DEPLOYMENTS)


def test_keda_scales_each_pool_on_its_own_queue_lists() -> None:
    redis = urlsplit(CONFIG["DARKROOM_REDIS_URL"])
    scaled = [d for d in K8S if d["kind"] == "ScaledObject"]
    workers = {n for n, d in DEPLOYMENTS.items() if containers(d)[0]["command"][:2] == ["darkroom", "worker"]}
    assert sorted(s["spec"]["scaleTargetRef"]["name"] for s in scaled) == sorted(workers)
    for obj in scaled:
        target = DEPLOYMENTS[obj["spec"]["scaleTargetRef"]["name"]]
        queues = pool_queues(containers(target)[0]["command"])
        triggers = obj["spec"]["triggers"]
        assert {t["type"] for t in triggers} == {"redis"}
        assert {t["metadata"]["listName"] for t in triggers} == {queue_key(q) for q in queues}
        for t in triggers:
            assert t["metadata"]["address"] == f"{redis.hostname}:{redis.port}"
            assert t["metadata"]["databaseIndex"] == redis.path.strip("/")
            assert int(t["metadata"]["listLength"]) > 0
        assert (
            obj["spec"]["minReplicaCount"] >= 1
        )  # heartbeats, schedules and delayed retries live in workers


def test_systemd_units_run_valid_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    systemd = DEPLOY / "systemd"
    shared = parse(systemd / "darkroom.env.example")
    assert_valid_settings(shared, monkeypatch)
    api = dict(parse(systemd / "darkroom-api.service")["Service"])
    assert api["User"] != "root" and darkroom(shlex.split(api["ExecStart"])).command == "api"
    unit = parse(systemd / "darkroom-worker@.service")["Service"]
    service = dict(unit)
    assert service["KillMode"] == "mixed" and service["User"] != "root"
    assert dict(e.split("=", 1) for _, e in (kv for kv in unit if kv[0] == "Environment"))[
        "PROMETHEUS_MULTIPROC_DIR"
    ].startswith("/run/" + service["RuntimeDirectory"].replace("%i", ""))
    pools: dict[str, set[Queue]] = {}
    ports = set()
    for env_path in sorted(systemd.glob("worker-*.env")):
        env = parse(env_path)
        command = service["ExecStart"]
        for name, value in env.items():
            command = command.replace(f"${name}", value)
        assert "$" not in command, command
        pools[env_path.stem] = pool_queues(shlex.split(command))
        ports.add(env["DARKROOM_METRICS_PORT"])
        assert_valid_settings(
            {**shared, **{k: v for k, v in env.items() if k.startswith("DARKROOM_")}}, monkeypatch
        )
    assert_one_pool_per_queue(pools)
    assert len(ports) == len(pools)  # one exporter port per pool on a host


def exported_metric_names() -> set[str]:
    from jobs.services.admin.images import ImageCounts, OldestProcessing
    from jobs.services.admin.metrics import REGISTRY, exposition
    from jobs.services.admin.queues import QueueStats
    from jobs.services.admin.stats import Snapshot

    names: set[str] = set()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
    for family in REGISTRY.collect():
        names |= {family.name + s for s in suffixes[family.type]}
    counts = ImageCounts({"ready": 1})
    queues = [QueueStats(Queue.UPLOAD.value, 1, 1, 1, 1, 1)]
    snapshot = Snapshot(0, queues, [], counts, OldestProcessing("i", "a", "", "", 1))
    names |= set(re.findall(r"^(darkroom_\w+)", exposition(snapshot, process_metrics=False).decode(), re.M))
    import dramatiq.middleware.prometheus as dramatiq_prometheus

    source = Path(dramatiq_prometheus.__file__).read_text()
    for name in re.findall(r'"(dramatiq_\w+)"', source):
        names |= {name, name + "_bucket", name + "_count", name + "_sum"}
    return names


def test_grafana_dashboard_queries_only_metrics_the_code_exports() -> None:
    dashboard = parse(DEPLOY / "grafana" / "darkroom-dashboard.json")
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\b((?:darkroom|dramatiq)_\w+)\b", expr)}
    assert len(used) >= 15
    assert not used - exported_metric_names(), sorted(used - exported_metric_names())
    must = {
        "darkroom_queue_depth", "darkroom_queue_dead_letters", "darkroom_job_duration_seconds_bucket",
        "darkroom_webhook_deliveries_total", "darkroom_images", "darkroom_bytes_in_total",
    }  # fmt: skip
    assert must <= used
