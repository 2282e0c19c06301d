"""The scale-out path, checked offline: the image, the Helm values, the k8s instance and the
IO manager on object storage. Docker, a cluster and S3 are not reachable here: the files are
parsed and validated with the same code Dagster runs (dagster-k8s builds the run pod's Job)."""

import re
import shlex
import shutil
import tomllib
import uuid

import dagster as dg
import polars as pl
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.dagster_run import DagsterRun
from dagster_k8s import K8sRunLauncher
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import construct_dagster_k8s_job
from support import PROJECT
from upath import UPath

from assets.automation import COMMUNITY_TAG
from assets.io import PolarsParquetIOManager
from assets.partitions import quarter_partitions

DEPLOY = PROJECT / "deploy"
IMAGE = "registry.example.org/value-pipeline:0.1.0"
DUMMY_PG = {"VALUE_PIPELINE_PG_HOST": "db.invalid", "VALUE_PIPELINE_PG_PORT": "5432", "VALUE_PIPELINE_PG_USER": "u",
            "VALUE_PIPELINE_PG_PASSWORD": "p", "VALUE_PIPELINE_PG_DB": "d"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def helm_values() -> dict:
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


def k8s_instance(tmp_path, monkeypatch) -> dict:
    for key, value in DUMMY_PG.items():
        monkeypatch.setenv(key, value)
    shutil.copy(DEPLOY / "dagster-k8s.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    return config


def test_dockerfile_builds_the_code_location_from_files_that_exist():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"].startswith(">=3.11")
    # Every COPY source exists, and the build context (Dockerfile.dockerignore) lets it through.
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    for source in (word for kind, args in instructions if kind == "COPY" for word in args.split()[:-1]):
        assert (PROJECT / source).exists(), source
        assert f"!{source}" in ignore, source
    # WeasyPrint's system libraries: the same list as scripts/setup.sh.
    setup = (PROJECT / "scripts" / "setup.sh").read_text()
    system_packages = re.search(r"SYSTEM_PACKAGES=\(([^)]*)\)", setup).group(1).split()
    apt = next(args for kind, args in instructions if kind == "RUN" and "apt-get install" in args)
    assert all(package in apt.split() for package in system_packages)
    # The entrypoint serves the module workspace.yaml loads, as the Helm chart does.
    command = yaml.safe_load(next(args for kind, args in instructions if kind == "CMD"))
    assert command[:3] == ["dagster", "code-server", "start"]
    workspace = yaml.safe_load((PROJECT / "workspace.yaml").read_text())["load_from"][0]["python_module"]
    served = dict(zip(command[3::2], command[4::2], strict=True))
    assert served["--module-name"] == workspace["module_name"] and served["--attribute"] == workspace["attribute"]
    deployment = helm_values()["dagster-user-deployments"]["deployments"][0]
    assert dict(zip(deployment["codeServerArgs"][::2], deployment["codeServerArgs"][1::2], strict=True)) == {
        "--module-name": workspace["module_name"], "--attribute": workspace["attribute"],
    }
    assert served["--port"] == str(deployment["port"]) == next(args for kind, args in instructions if kind == "EXPOSE")
    # The dependency layer installs exactly pyproject's pinned dependencies.
    install = next(args for kind, args in instructions if kind == "RUN" and "tomllib" in args)
    assert "['project']['dependencies']" in install and "pip install -r" in install
    assert shlex.split(next(args for kind, args in instructions if kind == "USER")) == ["value-pipeline"]


def test_helm_values_run_each_run_in_a_pod_on_postgres_with_the_instance_limits(tmp_path, monkeypatch):
    values = helm_values()
    instance = k8s_instance(tmp_path, monkeypatch)
    # Postgres outside the chart, its password from a Secret.
    assert values["postgresql"]["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert values["dagster-user-deployments"]["enabled"] and deployment["includeConfigInLaunchedRuns"]["enabled"]
    assert deployment["image"]["repository"] and deployment["image"]["tag"] != "latest"
    # Exports and output on the mounted volume, not on the image's disk.
    mounts = [mount["mountPath"] for mount in deployment["volumeMounts"]]
    for variable in ("VALUE_PIPELINE_EXPORTS", "VALUE_PIPELINE_OUTPUT"):
        assert any(deployment["env"][variable].startswith(mount + "/") for mount in mounts)
    assert any(secret["name"] == "value-pipeline-secrets" for secret in deployment["envSecrets"])
    # The chart writes the same queue and retries as deploy/dagster-k8s.yaml.
    daemon = values["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert daemon["runCoordinator"]["type"] == instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert queued["maxConcurrentRuns"] == instance["run_coordinator"]["config"]["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert queued["tagConcurrencyLimits"][0]["key"] == COMMUNITY_TAG
    assert {"enabled": daemon["runRetries"]["enabled"], "max_retries": daemon["runRetries"]["maxRetries"],
            "retry_on_asset_or_op_failure": daemon["runRetries"]["retryOnAssetOrOpFailure"]} == instance["run_retries"]
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["resources"] == instance["run_launcher"]["config"]["resources"]


def test_k8s_instance_launches_each_run_as_a_job_with_the_volume_and_secrets(tmp_path, monkeypatch):
    instance = k8s_instance(tmp_path, monkeypatch)
    launcher_section = instance["run_launcher"]
    assert (launcher_section["module"], launcher_section["class"]) == ("dagster_k8s", "K8sRunLauncher")
    config = process_config(K8sRunLauncher.config_type(), launcher_section["config"])
    assert config.success, config.errors
    # The launcher as the daemon builds it, but with a kubeconfig that points nowhere
    # instead of the in-cluster config (nothing is contacted).
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "test", "user": {"token": "unused"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
    }))
    launcher = K8sRunLauncher.from_config_value(None, {**config.value, "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)})
    run = DagsterRun(job_name="quarterly_report_job", run_id=uuid.uuid4().hex, tags={COMMUNITY_TAG: "riverside-science"})
    context = K8sContainerContext.create_for_run(run, launcher, include_run_tags=True)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image=IMAGE, run_launcher=launcher),
        args=["dagster", "api", "execute_run", "{}"], job_name="dagster-run-test", pod_name="dagster-run-test",
        component="run_worker", user_defined_k8s_config=context.run_k8s_config,
    )
    pod = job.spec.template.spec
    container = pod.containers[0]
    assert context.namespace == "value-pipeline" and pod.service_account_name == "value-pipeline"
    assert container.image == IMAGE
    assert [(v.name, v.persistent_volume_claim.claim_name) for v in pod.volumes] == [("data", "value-pipeline-data")]
    assert [(m.name, m.mount_path) for m in container.volume_mounts] == [("data", "/data")]
    assert [source.secret_ref.name for source in container.env_from] == ["value-pipeline-postgres", "value-pipeline-secrets"]
    env = {variable.name: variable.value for variable in container.env}
    assert env["VALUE_PIPELINE_EXPORTS"] == "/data/exports" and env["VALUE_PIPELINE_OUTPUT"] == "/data/output"
    assert env["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
    assert container.resources.requests == {"cpu": "1", "memory": "2Gi"} and container.resources.limits == {"memory": "4Gi"}


PARTS = dg.MultiPartitionsDefinition(
    {"community": dg.StaticPartitionsDefinition(["riverside-science", "inquiry-math-pd"]), "quarter": quarter_partitions}
)
KEY = dg.MultiPartitionKey({"community": "riverside-science", "quarter": "2026-07-01"})


def test_io_manager_takes_an_s3_path():
    """s3:// storage resolves through s3fs (fsspec): constructed and joined, not contacted."""
    base = UPath("s3://value-pipeline-data/prod/storage", client_kwargs={"endpoint_url": "https://s3.example.org"})
    manager = PolarsParquetIOManager(base_path=base)
    assert type(manager.fs).__module__.startswith("s3fs") and manager.fs.client_kwargs["endpoint_url"] == "https://s3.example.org"
    output = dg.build_output_context(asset_key=dg.AssetKey("ledger"), partition_key=KEY, asset_partitions_def=PARTS)
    (path,) = manager._get_paths_for_partitions(output).values()
    assert str(path) == "s3://value-pipeline-data/prod/storage/ledger/riverside-science/2026-07-01.parquet"


def test_io_manager_round_trip_on_a_remote_filesystem():
    """The same code on fsspec's in-memory filesystem: a non-local backend, written and read back
    (directories, the .part file and its rename); a missing partition fails without retries."""
    root = UPath(f"memory://value-pipeline-{uuid.uuid4().hex}")
    manager = PolarsParquetIOManager(base_path=root / "storage")
    frame = pl.DataFrame({"indicator": ["reply_rate"], "value": [0.5]})
    output = dg.build_output_context(asset_key=dg.AssetKey("ledger"), partition_key=KEY, asset_partitions_def=PARTS)
    try:
        manager.handle_output(output, frame)
        assert [p.name for p in (root / "storage" / "ledger" / "riverside-science").iterdir()] == ["2026-07-01.parquet"]
        loaded = manager.load_input(dg.build_input_context(
            asset_key=dg.AssetKey("ledger"), partition_key=KEY, asset_partitions_def=PARTS, upstream_output=output,
        ))
        assert loaded.equals(frame)
        missing = dg.MultiPartitionKey({"community": "inquiry-math-pd", "quarter": "2026-07-01"})
        with pytest.raises(dg.Failure, match="ledger is not stored for partition inquiry-math-pd") as failure:
            manager.load_input(dg.build_input_context(asset_key=dg.AssetKey("ledger"), partition_key=missing, asset_partitions_def=PARTS))
        assert failure.value.allow_retries is False
    finally:
        root.fs.rm(root.path, recursive=True)
