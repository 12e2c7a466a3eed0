"""``log_experiment``: record a finished, scripted experiment as one MLflow run.

An experiment script (``experiments/*.py``) computes its results first, writes them, then
calls :func:`log_experiment` once: one parent run with the script's tags, parameters and
headline metrics, one nested child run per natural unit (a dataset x model, a seed, a
table), and the result files as artifacts. The parent also carries every child metric as
``<child>.<metric>``, so parent runs of several invocations compare side by side.

Nothing is logged before everything has been checked (metric values, names, artifact
files); a store that cannot be reached or a failure while logging raises
:class:`TrackingError` (the run, if created, is marked ``FAILED``). Tracking reads the
results and never changes them.
"""

from __future__ import annotations

import getpass
import json
import logging
import math
import numbers
import os
import platform
import posixpath
import shutil
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..exceptions import TalentMLError
from ._train import _flat_params, _metric_name

__all__ = [
    "ExperimentRun",
    "TrackingError",
    "log_experiment",
    "metric_name",
    "resolve_tracking_uri",
]

logger = logging.getLogger(__name__)

#: The environment variable MLflow reads its tracking URI from.
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
#: The packages whose versions every experiment run records (``env.<name>`` params).
_ENV_PACKAGES = (
    "talentml",
    "numpy",
    "pandas",
    "scikit-learn",
    "xgboost",
    "shap",
    "fairlearn",
    "mlflow",
)
_CHILD_KEYS = frozenset({"params", "metrics", "tags", "artifacts"})
_BATCH = 100  # MLflow: at most 100 params or tags per log_batch call
_METRIC_BATCH = 1000


class TrackingError(TalentMLError, RuntimeError):
    """The MLflow tracking store could not be opened, or a run could not be recorded.

    The message names the store (tracking URI), the experiment and the step that failed; the
    original error is chained (``__cause__``).
    """


@dataclass(frozen=True)
class ExperimentRun:
    """A recorded experiment run (returned by :func:`log_experiment`).

    Attributes
    ----------
    run_id : str
        The parent run.
    experiment_id, experiment : str
        The MLflow experiment (id and name).
    tracking_uri : str
        The store the run is in.
    artifact_uri : str
        Where the run's artifacts are.
    children : dict of str to str
        Child name -> child run id, in the order given.

    Examples
    --------
    >>> from talentml.tracking import ExperimentRun
    >>> run = ExperimentRun("r1", "1", "talentml-experiments/demo", "sqlite:///mlflow.db",
    ...                     "file:///tmp/mlartifacts/r1/artifacts", {"seed_0": "r2"})
    >>> run
    ExperimentRun(run r1 in 'talentml-experiments/demo', 1 child)
    """

    run_id: str
    experiment_id: str
    experiment: str
    tracking_uri: str
    artifact_uri: str
    children: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        n = len(self.children)
        kids = f", {n} child{'ren' if n != 1 else ''}" if n else ""
        return f"ExperimentRun(run {self.run_id} in {self.experiment!r}{kids})"


def metric_name(name: str) -> str:
    """The MLflow-valid form of a metric or parameter name, as talentml writes them.

    Letters, digits and ``_ - . / space`` are kept; every other character (``:``, ``+``,
    ``=``, ``(``, ...) becomes ``_``, the rule :func:`train` uses for its metric names. Colons
    are valid in MLflow on Linux only, so they are replaced everywhere.

    Parameters
    ----------
    name : str
        A name, e.g. ``"ibm.without.flightrisk:nested.roc_auc.mean"``.

    Returns
    -------
    str
        The name MLflow stores.

    Raises
    ------
    ValueError
        If the name is empty, longer than 250 characters, or not a normalized path (``a//b``,
        ``/a``, ``a/``): MLflow may store names as files.

    Examples
    --------
    >>> from talentml.tracking import metric_name
    >>> metric_name("ibm.without.flightrisk:nested.roc_auc.mean")
    'ibm.without.flightrisk_nested.roc_auc.mean'
    >>> metric_name("+true_state (AUC)")
    '_true_state _AUC_'
    """
    out = _metric_name(str(name))
    if not out or len(out) > 250:
        raise ValueError(
            f"metric_name: {name!r} gives a name of {len(out)} characters; MLflow takes 1 to 250"
        )
    if posixpath.normpath(out) != out or out.startswith("/"):
        raise ValueError(
            f"metric_name: {name!r} is not a normalized path ('a//b', '/a', 'a/' and '.' "
            "segments are refused by MLflow)"
        )
    return out


def resolve_tracking_uri(
    tracking_uri: str | None = None,
    *,
    default: str | os.PathLike[str] | None = None,
    check: bool = True,
) -> str:
    """The tracking URI to use: the one given, else ``MLFLOW_TRACKING_URI``, else ``default``.

    Parameters
    ----------
    tracking_uri : str, optional
        An explicit URI (a command line's ``--tracking-uri``); wins over everything.
    default : str or path-like, optional
        Used when neither ``tracking_uri`` nor the ``MLFLOW_TRACKING_URI`` environment
        variable is set: a URI, or the path of a SQLite file (``sqlite:///<absolute path>``).
        Without it, MLflow's current URI (``mlflow.get_tracking_uri()``).
    check : bool, default True
        Open the store (a SQLite file is created and migrated) and list one experiment, so
        that a wrong URI fails before a long experiment runs, not after.

    Returns
    -------
    str
        The tracking URI.

    Raises
    ------
    TrackingError
        If ``check`` and the store cannot be opened.

    Examples
    --------
    >>> import os
    >>> from pathlib import Path
    >>> from talentml.tracking import resolve_tracking_uri
    >>> resolve_tracking_uri("sqlite:///given.db", check=False)
    'sqlite:///given.db'
    >>> saved = os.environ.pop("MLFLOW_TRACKING_URI", None)
    >>> uri = resolve_tracking_uri(default=Path("mlflow.db"), check=False)
    >>> uri == f"sqlite:///{Path.cwd() / 'mlflow.db'}"
    True
    >>> os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///from-env.db"
    >>> resolve_tracking_uri(default=Path("mlflow.db"), check=False)
    'sqlite:///from-env.db'
    >>> _ = os.environ.pop("MLFLOW_TRACKING_URI") if saved is None else os.environ.update(
    ...     MLFLOW_TRACKING_URI=saved)
    """
    if tracking_uri:
        uri = str(tracking_uri)
    elif os.environ.get(TRACKING_URI_ENV):
        uri = os.environ[TRACKING_URI_ENV]
    elif default is not None:
        uri = (
            f"sqlite:///{os.path.abspath(default)}"
            if isinstance(default, os.PathLike)
            else str(default)
        )
    else:
        import mlflow

        uri = mlflow.get_tracking_uri()
    if check:
        _open_store(uri)
    return uri


def _open_store(uri: str) -> Any:
    from mlflow import MlflowClient

    try:
        with warnings.catch_warnings():
            # MLflow's SQLite store maps a relationship with SQLAlchemy's deprecated
            # ``noload`` strategy (MLflow's code); the mappers are configured here, once
            warnings.filterwarnings("ignore", message=r"The ``noload`` loader strategy")
            client = MlflowClient(tracking_uri=uri)
            client.search_experiments(max_results=1)
    except Exception as err:
        raise TrackingError(
            f"cannot open the MLflow tracking store {uri!r}: {type(err).__name__}: {err}"
        ) from err
    return client


def _local_sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other stores and in-memory)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = unquote(uri[len("sqlite:///") :]).split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(os.path.abspath(path))


# ------------------------------------------------------------------------------ values
def _flatten(values: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """Nested mappings become dotted names: ``{"roc_auc": {"mean": x}}`` -> ``roc_auc.mean``."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            if not value and prefix:
                out[prefix] = {}
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[prefix] = value

    if values is None:
        return out
    if not isinstance(values, Mapping):
        raise TypeError(f"log_experiment: {what} must be a mapping, got {type(values).__name__}")
    walk("", values)
    return out


def _named(values: dict[str, Any], what: str) -> dict[str, Any]:
    """Sanitized names; two names that collide after sanitizing raise."""
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for raw, value in values.items():
        try:
            key = metric_name(raw)
        except ValueError as err:
            raise ValueError(f"log_experiment: {what} {raw!r}: {err}") from None
        if key in out:
            raise ValueError(
                f"log_experiment: {what} names {origin[key]!r} and {raw!r} both become "
                f"{key!r}; rename one"
            )
        out[key] = value
        origin[key] = raw
    return out


def _metric_values(metrics: Mapping[str, Any] | None, where: str) -> dict[str, float]:
    flat = _flatten(metrics, f"{where} metrics")
    out: dict[str, float] = {}
    skipped = []
    for key, value in flat.items():
        if value is None or (isinstance(value, Mapping) and not value):
            skipped.append(key)
            continue
        if isinstance(value, bool):
            out[key] = float(value)
        elif isinstance(value, numbers.Real):
            out[key] = float(value)
        else:
            raise TypeError(
                f"log_experiment: {where} metric {key!r} must be a number or None, got "
                f"{type(value).__name__} {value!r:.80}"
            )
    if skipped:
        logger.debug("log_experiment: %s: %d metrics without a value: %s", where, *_n(skipped))
    return _named(out, f"{where} metric")


def _n(items: list[str]) -> tuple[int, str]:
    return len(items), ", ".join(items[:10]) + (" ..." if len(items) > 10 else "")


def _param_values(params: Mapping[str, Any] | None, where: str) -> dict[str, str]:
    flat = _flatten(params, f"{where} params")
    text = {
        k: json.dumps(v, default=str) if isinstance(v, list | tuple) else v for k, v in flat.items()
    }
    return _named(_flat_params(text), f"{where} param")


def _tag_values(tags: Mapping[str, Any] | None, where: str) -> dict[str, str]:
    flat = _flatten(tags, f"{where} tags")
    out = {}
    for k, v in flat.items():
        if v is None:  # no value: no tag
            continue
        text = json.dumps(v, default=str) if isinstance(v, list | tuple) else str(v)
        out[str(k)] = text if len(text) <= 8000 else text[:7997] + "..."
    return out


def _artifact_values(artifacts: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """Check every artifact before anything is logged."""
    if artifacts is None:
        return {}
    if not isinstance(artifacts, Mapping):
        raise TypeError(
            f"log_experiment: {where} artifacts must be a mapping of artifact path to value, "
            f"got {type(artifacts).__name__}"
        )
    out: dict[str, Any] = {}
    for path, value in artifacts.items():
        p = str(path)
        if not p or posixpath.normpath(p) != p or p.startswith(("/", "..")) or "\\" in p:
            raise ValueError(
                f"log_experiment: {where} artifact path {p!r} must be a relative POSIX path "
                "inside the run (e.g. 'results/summary.json')"
            )
        if isinstance(value, os.PathLike):
            source = Path(value)
            if not source.exists():
                raise FileNotFoundError(
                    f"log_experiment: {where} artifact {p!r}: file {str(source)!r} does not exist"
                )
            out[p] = source
        elif isinstance(value, str | bytes):
            out[p] = value
        elif isinstance(value, Mapping | list | tuple):
            try:
                out[p] = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=True) + "\n"
            except TypeError as err:
                raise TypeError(f"log_experiment: {where} artifact {p!r}: {err}") from None
        else:
            raise TypeError(
                f"log_experiment: {where} artifact {p!r} must be a path, text, bytes or a "
                f"JSON-able mapping or list, got {type(value).__name__}"
            )
    return out


def _stage(artifacts: Mapping[str, Any], folder: Path) -> None:
    for rel, value in artifacts.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, Path):
            if value.is_dir():
                shutil.copytree(value, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(value, target)
        elif isinstance(value, bytes):
            target.write_bytes(value)
        else:
            target.write_text(value, encoding="utf-8")


# ---------------------------------------------------------------------- environment
def _environment() -> dict[str, str]:
    """Python, platform, cores and the versions of the packages that make the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }
    for name in _ENV_PACKAGES:
        try:
            env[name] = version(name)
        except PackageNotFoundError:
            continue
    return env


def _repository(path: Path) -> tuple[str, str, bool | None] | None:
    """``(top folder, commit, dirty)`` of the git repository holding ``path``, else None.

    Read with GitPython (a dependency of MLflow, whose own git tags use it); ``dirty`` is
    None when the working tree cannot be compared (e.g. a bare checkout).
    """
    try:
        import git  # GitPython
    except ImportError:  # pragma: no cover - MLflow requires it
        return None
    try:
        repo = git.Repo(path, search_parent_directories=True)
        top, commit = repo.working_tree_dir, repo.head.commit.hexsha
    except (git.exc.GitError, ValueError, OSError):  # no repository, no commit yet
        return None
    if top is None:
        return None
    try:
        dirty: bool | None = repo.is_dirty(untracked_files=False)
    except (git.exc.GitError, OSError):
        dirty = None
    return str(top), commit, dirty


def _source_tags(source: str | os.PathLike[str] | None) -> dict[str, str]:
    """``mlflow.source.*`` tags: the script (relative to its repository) and its commit."""
    tags = {"mlflow.source.type": "LOCAL"}
    try:
        tags["mlflow.user"] = getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        pass
    if source is None:
        return tags
    path = Path(source).resolve()
    tags["talentml.script"] = path.name
    tags["mlflow.source.name"] = str(path)
    found = _repository(path.parent)
    if found:
        top, commit, dirty = found
        tags["mlflow.source.git.commit"] = commit
        if dirty is not None:
            tags["talentml.git_dirty"] = str(dirty)
        try:
            tags["mlflow.source.name"] = path.relative_to(Path(top).resolve()).as_posix()
        except ValueError:
            pass
    return tags


# -------------------------------------------------------------------------- logging
def _experiment_id(client: Any, name: str, uri: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage != "active":
            raise TrackingError(
                f"log_experiment: experiment {name!r} is deleted in {uri!r}; restore it "
                "(`mlflow experiments restore`) or choose another name"
            )
        return experiment.experiment_id
    db = _local_sqlite_path(uri)
    # a local SQLite store keeps its artifacts next to the database file (as `make demo`
    # does), not in ./mlruns of whatever folder the script was started from
    location = (db.parent / "mlartifacts").as_uri() if db is not None else None
    return client.create_experiment(name, artifact_location=location)


def _log_values(
    client: Any,
    run_id: str,
    params: dict[str, str],
    metrics: dict[str, float],
    tags: dict[str, str],
) -> None:
    from mlflow.entities import Metric, Param, RunTag

    stamp = int(time.time() * 1000)
    items = [Param(k, v) for k, v in params.items()]
    for i in range(0, len(items), _BATCH):
        client.log_batch(run_id, params=items[i : i + _BATCH], synchronous=True)
    items = [RunTag(k, v) for k, v in tags.items()]
    for i in range(0, len(items), _BATCH):
        client.log_batch(run_id, tags=items[i : i + _BATCH], synchronous=True)
    items = [Metric(k, v, stamp, 0) for k, v in metrics.items()]
    for i in range(0, len(items), _METRIC_BATCH):
        client.log_batch(run_id, metrics=items[i : i + _METRIC_BATCH], synchronous=True)


def _log_artifacts(client: Any, run_id: str, artifacts: dict[str, Any]) -> None:
    if not artifacts:
        return
    with tempfile.TemporaryDirectory(prefix="talentml-artifacts-") as tmp:
        _stage(artifacts, Path(tmp))
        client.log_artifacts(run_id, tmp)


def log_experiment(
    experiment: str,
    *,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    artifacts: Mapping[str, Any] | None = None,
    children: Mapping[str, Mapping[str, Any]] | None = None,
    run_name: str | None = None,
    tracking_uri: str | None = None,
    source: str | os.PathLike[str] | None = None,
    start_time: float | None = None,
) -> ExperimentRun:
    """Record a finished experiment as one MLflow run, with nested runs for its units.

    Parameters
    ----------
    experiment : str
        MLflow experiment name (created when missing; in a local SQLite store its
        artifacts go to ``mlartifacts/`` next to the database file).
    params : mapping, optional
        The run's parameters (command-line arguments, seeds, presets, ...). Nested mappings
        become dotted names (``{"meta": {"python": "3.11"}}`` -> ``meta.python``); lists are
        written as JSON. The environment is added as ``env.*`` (Python, platform, cores, the
        versions of talentml, numpy, pandas, scikit-learn, xgboost, shap, fairlearn, mlflow).
    metrics : mapping, optional
        Headline figures: numbers (``bool`` -> 0/1), ``None`` (skipped: no value), nested
        mappings flattened as for ``params``. Names go through :func:`metric_name`.
    tags : mapping, optional
        Run tags (``quick``, ...; ``None`` values are not set). Added: ``talentml.version``,
        ``talentml.kind`` (``experiment``) and, given ``source``, ``talentml.script``,
        ``mlflow.source.name`` and, in a git repository, ``mlflow.source.git.commit`` and
        ``talentml.git_dirty``.
    artifacts : mapping, optional
        Artifact path in the run -> content: a :class:`pathlib.Path` (file or folder,
        copied), ``str`` (text), ``bytes``, or a mapping or list (written as JSON).
    children : mapping of str to mapping, optional
        Child name -> ``{"params", "metrics", "tags", "artifacts"}`` (each optional, as
        above): one nested run per child, named after it. Every child metric is also logged
        on the parent as ``<child>.<metric>``.
    run_name : str, optional
        Name of the parent run (default: MLflow's generated name).
    tracking_uri : str, optional
        The store (default: :func:`resolve_tracking_uri` without a default, i.e.
        ``MLFLOW_TRACKING_URI`` or MLflow's current URI).
    source : path-like, optional
        The script that produced the results (``__file__``).
    start_time : float, optional
        When the experiment started (``time.time()``), so the run's duration is the
        experiment's; default now.

    Returns
    -------
    ExperimentRun
        The parent run id, the experiment, the store and the child run ids.

    Raises
    ------
    TypeError
        If a metric is not a number, or an artifact of an unsupported type.
    ValueError
        If two names collide after sanitizing, or a child has unknown keys.
    FileNotFoundError
        If an artifact file does not exist.
    TrackingError
        If the store cannot be opened or a value cannot be logged; the run, if created, is
        marked ``FAILED``. Nothing is logged when a value is wrong (checked first).

    Examples
    --------
    >>> import shutil, tempfile
    >>> from mlflow import MlflowClient
    >>> from talentml.tracking import log_experiment
    >>> folder = tempfile.mkdtemp()
    >>> uri = f"sqlite:///{folder}/mlflow.db"
    >>> run = log_experiment(
    ...     "talentml-experiments/demo",
    ...     params={"seeds": [0, 1], "quick": True},
    ...     metrics={"auc": {"mean": 0.84, "sd": 0.01}},
    ...     children={"seed_0": {"metrics": {"auc": 0.83}}, "seed_1": {"metrics": {"auc": 0.85}}},
    ...     artifacts={"results/summary.json": {"auc": 0.84}},
    ...     tracking_uri=uri,
    ... )
    >>> logged = MlflowClient(uri).get_run(run.run_id).data
    >>> sorted(logged.metrics.items())
    [('auc.mean', 0.84), ('auc.sd', 0.01), ('seed_0.auc', 0.83), ('seed_1.auc', 0.85)]
    >>> logged.params["seeds"], [a.path for a in MlflowClient(uri).list_artifacts(run.run_id)]
    ('[0, 1]', ['results'])
    >>> shutil.rmtree(folder)
    """
    from .._version import __version__

    if not isinstance(experiment, str) or not experiment.strip():
        raise ValueError(f"log_experiment: experiment must be a non-empty name, got {experiment!r}")
    # -- everything checked before anything is written
    run_params = _param_values(params, "run")
    env = _param_values({"env": _environment()}, "run")
    clash = sorted(set(run_params) & set(env))
    if clash:
        raise ValueError(f"log_experiment: params {clash} are reserved for the environment")
    run_params.update(env)
    run_metrics = _metric_values(metrics, "run")
    base_tags = {"talentml.version": __version__, "talentml.kind": "experiment"}
    base_tags.update(_source_tags(source))
    run_tags = {**base_tags, **_tag_values(tags, "run")}
    run_artifacts = _artifact_values(artifacts, "run")
    kids: dict[str, dict[str, Any]] = {}
    mirrored: dict[str, str] = {}
    if children is not None and not isinstance(children, Mapping):
        raise TypeError(
            f"log_experiment: children must be a mapping of name to spec, got "
            f"{type(children).__name__}"
        )
    for name, spec in (children or {}).items():
        where = f"child {name!r}"
        if not isinstance(spec, Mapping):
            raise TypeError(f"log_experiment: {where} must be a mapping, got {type(spec)}")
        unknown = sorted(set(spec) - _CHILD_KEYS)
        if unknown:
            raise ValueError(
                f"log_experiment: {where} has unknown keys {unknown}; use {sorted(_CHILD_KEYS)}"
            )
        prefix = metric_name(str(name))
        kid_metrics = _metric_values(spec.get("metrics"), where)
        for key, value in kid_metrics.items():
            full = metric_name(f"{prefix}.{key}")
            if full in run_metrics:
                raise ValueError(
                    f"log_experiment: {where}'s metric {key!r} would be logged on the run as "
                    f"{full!r}, which {mirrored.get(full, 'the run metrics')} already has "
                    "(children's metrics are copied to the run as <child>.<metric>)"
                )
            run_metrics[full] = value
            mirrored[full] = where
        kids[str(name)] = {
            "params": _param_values(spec.get("params"), where),
            "metrics": kid_metrics,
            "tags": {**base_tags, **_tag_values(spec.get("tags"), where)},
            "artifacts": _artifact_values(spec.get("artifacts"), where),
        }
    started_s = time.time() if start_time is None else float(start_time)
    if not math.isfinite(started_s) or started_s < 0:
        raise ValueError(f"log_experiment: start_time must be seconds since 1970, got {start_time}")
    started = int(started_s * 1000)

    # -- the store
    uri = resolve_tracking_uri(tracking_uri, check=False)
    client = _open_store(uri)
    run_id = None
    step = "creating the experiment"
    try:
        experiment_id = _experiment_id(client, experiment, uri)
        step = "creating the run"
        run = client.create_run(experiment_id, start_time=started, tags=run_tags, run_name=run_name)
        run_id = run.info.run_id
        step = "logging the run's params and metrics"
        _log_values(client, run_id, run_params, run_metrics, {})
        step = "logging the run's artifacts"
        _log_artifacts(client, run_id, run_artifacts)
        child_ids: dict[str, str] = {}
        for name, kid in kids.items():
            step = f"logging child run {name!r}"
            child = client.create_run(
                experiment_id,
                start_time=started,
                tags={**kid["tags"], "mlflow.parentRunId": run_id},
                run_name=name,
            )
            child_ids[name] = child.info.run_id
            _log_values(client, child.info.run_id, kid["params"], kid["metrics"], {})
            _log_artifacts(client, child.info.run_id, kid["artifacts"])
            client.set_terminated(child.info.run_id, "FINISHED")
        step = "finishing the run"
        client.set_terminated(run_id, "FINISHED")
        artifact_uri = client.get_run(run_id).info.artifact_uri
    except TrackingError:
        raise
    except Exception as err:
        if run_id is not None:
            try:
                client.set_terminated(run_id, "FAILED")
            except Exception as second:  # the store is gone: say so, keep the first error
                logger.error("log_experiment: could not mark run %s FAILED: %s", run_id, second)
        where = f" (run {run_id})" if run_id else ""
        raise TrackingError(
            f"log_experiment: {step} failed for experiment {experiment!r} in {uri!r}{where}: "
            f"{type(err).__name__}: {err}"
        ) from err
    logger.info(
        "log_experiment: run %s in %r (%d params, %d metrics, %d children) at %s",
        run_id,
        experiment,
        len(run_params),
        len(run_metrics),
        len(child_ids),
        uri,
    )
    return ExperimentRun(
        run_id=run_id,
        experiment_id=str(experiment_id),
        experiment=experiment,
        tracking_uri=uri,
        artifact_uri=artifact_uri,
        children=child_ids,
    )
