"""Access control: the tracking server runs MLflow's basic-auth app; readers cannot register
or promote a model, editors can."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import mlflow
import pytest
import requests
from mlflow.exceptions import MlflowException

import talentml as tml
from serving_support import free_port, server_env, stop, synthetic, tracking_server, wait
from talentml.serving import Scorer, load
from talentml.tracking import promote, register

pytestmark = [
    pytest.mark.mlflow_server,
    # MLflow's SQLite store uses a loader strategy SQLAlchemy 2.1 deprecates (not talentml's)
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning"),
]

USER_ENV = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


@contextlib.contextmanager
def as_user(name: str, password: str) -> Iterator[None]:
    before = {k: os.environ.get(k) for k in USER_ENV}
    os.environ.update(dict(zip(USER_ENV, (name, password), strict=True)))
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth")
    passwords = {u: secrets.token_urlsafe(16) for u in ("admin", "reader", "editor")}
    config = root / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{root / 'auth.db'}\n"
        "admin_username = admin\n"
        f"admin_password = {passwords['admin']}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {
        **server_env(),
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_urlsafe(32),  # CSRF protection
    }
    port = free_port()
    proc = tracking_server(root, port, env, "--app-name", "basic-auth")
    uri = f"http://127.0.0.1:{port}"
    previous = mlflow.get_tracking_uri() if "MLFLOW_TRACKING_URI" in os.environ else None
    try:
        wait(f"{uri}/health", proc, root / "tracking.log")
        mlflow.set_tracking_uri(uri)
        # the admin API over REST (importing mlflow.server.auth would start an auth app here)
        admin = requests.Session()
        admin.auth = ("admin", passwords["admin"])

        def call(path: str, body: dict) -> None:
            res = admin.post(f"{uri}/api/{path}", json=body, timeout=30)
            assert res.status_code == 200, res.text

        for user in ("reader", "editor"):
            call("2.0/mlflow/users/create", {"username": user, "password": passwords[user]})
        with as_user("admin", passwords["admin"]):
            experiment = mlflow.MlflowClient().create_experiment("talent")
            mlflow.MlflowClient().create_registered_model("flight-risk")
        for kind, resource in (("experiment", experiment), ("registered_model", "flight-risk")):
            call(
                "3.0/mlflow/users/permissions/grant",
                {
                    "username": "editor",
                    "resource_type": kind,
                    "resource_id": resource,
                    "permission": "EDIT",
                },
            )
        X, y = synthetic(n_employees=150)
        model = tml.FlightRisk(n_estimators=10, max_depth=3, survival=False, random_state=0)
        model.fit(X, y["label"])
        yield {
            "uri": uri,
            "passwords": passwords,
            "experiment": experiment,
            "scorer": Scorer(model, reference=X),
            "X": X,
        }
    finally:
        stop(proc)
        mlflow.set_tracking_uri(previous)


def test_anonymous_requests_are_refused(auth_server):
    res = requests.get(f"{auth_server['uri']}/api/2.0/mlflow/registered-models/search", timeout=30)
    assert res.status_code == 401


def test_an_editor_registers_and_promotes(auth_server):
    with as_user("editor", auth_server["passwords"]["editor"]):
        with mlflow.start_run(experiment_id=auth_server["experiment"]):
            mv = register(auth_server["scorer"], "flight-risk", aliases=["challenger"])
        assert str(mv.version) == "1"
        assert promote("flight-risk") == "1"
        champion = mlflow.MlflowClient().get_model_version_by_alias("flight-risk", "champion")
        assert str(champion.version) == "1"


def test_a_reader_can_load_but_not_register_or_promote(auth_server):
    with as_user("editor", auth_server["passwords"]["editor"]):
        client = mlflow.MlflowClient()
        if not client.search_model_versions("name = 'flight-risk'"):
            with mlflow.start_run(experiment_id=auth_server["experiment"]):
                register(auth_server["scorer"], "flight-risk", aliases=["challenger"])
        source = client.get_model_version("flight-risk", "1")
    with as_user("reader", auth_server["passwords"]["reader"]):
        served = load("models:/flight-risk/1", log=None)  # reading is allowed
        assert served.predict(auth_server["X"].head(2))["score"].notna().all()
        client = mlflow.MlflowClient()
        with pytest.raises(MlflowException, match="PERMISSION_DENIED|Permission denied"):
            client.create_model_version(
                "flight-risk", source=source.source, model_id=source.model_id
            )
        with pytest.raises(MlflowException, match="PERMISSION_DENIED|Permission denied"):
            promote("flight-risk", 1)
        with (
            pytest.raises(MlflowException, match="PERMISSION_DENIED|Permission denied"),
            mlflow.start_run(experiment_id=auth_server["experiment"]),
        ):
            register(auth_server["scorer"], "flight-risk")
        assert len(client.search_model_versions("name = 'flight-risk'")) == 1
