"""The manager's team view on the simulated organization (the ``org`` session fixture).

Who is in it (direct and indirect reports as known at ``as_of``, from the manager-change
history), only facts known before ``as_of``, heatmap statuses and colours against a plain
Python recomputation, the caregiver-safe agility ranking, purpose limitation, "assign" on a
real ralph LRS exactly once across retries, and the HTML page in headless Chromium.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from lrs_support import PROXY_VARIABLES, Fault, FaultProxy, RalphUser, local_session, start_ralph
from talentml import PurposeLimitationError
from talentml._validation import check_purpose, normalize_name, sensitive_names
from talentml.datasets import SIMULATION_SECRET
from talentml.explain._peers import manager_at as explain_manager_at
from talentml.loop import (
    ActionStore,
    Role,
    RuleSet,
    TeamView,
    WebhookSender,
    statement_id,
    team_view,
)
from talentml.loop._team import AGILITY_MEASURES, managers_at
from talentml.loop._team_html import COLORS, STATUSES

AS_OF = pd.Timestamp("2025-06-01", tz="UTC")
#: At AS_OF, E002485 manages 11 people; the export's snapshot says they report to someone
#: else (the team moved in August 2025): only the history gives the team as it was.
MANAGER = "E002485"
#: E002485's own manager (who left in 2024; the org chart still points at them).
SKIP_LEVEL = "E001075"
ROLES = {
    "Customer Support": Role(
        "Support Specialist", {"Client Management": 2, "Product Knowledge": 2}
    ),
    "Marketing": Role("Marketer", {"Presentation Skills": 2, "Data Visualization": 1}),
}
PM_COURSE = "https://lms.acme.example/course/project-management-foundations"
RULES = RuleSet(
    [
        {
            "id": "pm-remediation",
            "kind": "remediation",
            "when": [{"competency": "Project Management", "op": "<", "value": 3}],
            "then": [
                {
                    "action": "enroll",
                    "target": PM_COURSE,
                    "title": "Project Management Fundamentals",
                    "due_days": 30,
                }
            ],
        },
        {
            "id": "low-rating-check-in",
            "when": [{"feature": "rating_latest", "op": "<=", "value": 2}],
            "then": [{"action": "notify", "target": "manager", "open_days": 60}],
        },
    ]
)
TABLES = ("members", "heatmap", "progress", "agility", "open_actions", "suggestions")
OFFHOURS = re.compile(r"offhours|weekend", re.IGNORECASE)
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything here talks to 127.0.0.1: a proxy from the environment must not interfere."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


# --------------------------------------------------------------------------- inputs
def _subtree_at(org, root: str, t: pd.Timestamp) -> set[str]:
    """Everyone under ``root`` at ``t`` (active or not), from a plain walk of the history."""
    boss = _plain_managers(org, t)
    out, todo = set(), [root]
    while todo:
        node = todo.pop()
        for e, m in boss.items():
            if m == node and e not in out:
                out.add(e)
                todo.append(e)
    return out


def _plain_managers(org, t: pd.Timestamp) -> dict[str, str | None]:
    """The point-in-time manager rule, row by row in plain Python."""
    snap = {
        str(e): (None if pd.isna(m) else str(m))
        for e, m in zip(org.employees["employee_id"], org.employees["manager_id"], strict=True)
    }
    ev = org.job_events[org.job_events["event"] == "manager_change"]
    known: dict[str, tuple] = {}
    later: dict[str, tuple] = {}
    for r in ev.itertuples(index=False):
        key = (r.effective_date, r.recorded_at)
        if r.recorded_at < t and r.effective_date <= t:
            if r.employee_id not in known or key >= known[r.employee_id][0]:
                known[r.employee_id] = (key, r.to_value)
        elif r.employee_id not in later or key < later[r.employee_id][0]:
            later[r.employee_id] = (key, r.from_value)
    out = dict(snap)
    for e, (_, v) in later.items():
        out[e] = v
    for e, (_, v) in known.items():
        out[e] = v
    return out


def _active(org, t: pd.Timestamp) -> set[str]:
    e = org.employees
    ok = (e["hire_date"] <= t) & (
        e["termination_date"].isna() | (t < e["termination_date"] + pd.Timedelta(days=1))
    )
    return set(e.loc[ok, "employee_id"].astype(str))


@pytest.fixture(scope="module")
def statements(org) -> pd.DataFrame:
    """The learning records of the skip-level subtree and of 40 other people, ingested."""
    team = _subtree_at(org, SKIP_LEVEL, AS_OF) | {SKIP_LEVEL}
    others = set(org.employees["employee_id"].astype(str).iloc[::47][:40])
    ids = org.hris_identities[org.hris_identities["employee_id"].isin(team | others)]
    users, mails = set(ids["lms_user"].astype(str)), {f"mailto:{m}" for m in ids["email"]}
    raw = [
        s
        for s in org.raw_statements
        if s["actor"].get("account", {}).get("name") in users or s["actor"].get("mbox") in mails
    ]
    res = tml.xapi.ingest(
        raw, identities=org.identities, secret=SIMULATION_SECRET, show_progress=False
    )
    return res.statements


def _view(org, statements, manager=MANAGER, as_of=AS_OF, **kw) -> TeamView:
    args = dict(
        employees=org.employees,
        competency_ratings=org.competency_ratings,
        statements=statements,
        reviews=org.reviews,
        job_events=org.job_events,
        course_catalog=org.catalog,
        roles=ROLES,
        ruleset=RULES,
    )
    args.update(kw)
    return team_view(manager, as_of, **args)


@pytest.fixture(scope="module")
def view(org, statements) -> TeamView:
    return _view(org, statements)


@pytest.fixture(scope="module")
def wide(org, statements) -> TeamView:
    return _view(org, statements, manager=SKIP_LEVEL, indirect=True)


# ------------------------------------------------------------------------------ who
def test_managers_at_is_the_rule_of_the_team_features(org) -> None:
    for t in (pd.Timestamp("2024-02-01", tz="UTC"), AS_OF):
        ours = managers_at(org.employees, t, org.job_events)
        keys = pd.DataFrame({"employee_id": ours.index.astype(str), "as_of": t})
        theirs = explain_manager_at(keys, org.employees, org.job_events)
        assert ours.fillna("-").tolist() == theirs.fillna("-").tolist()
        plain = _plain_managers(org, t)
        assert ours.fillna("-").tolist() == [plain[e] or "-" for e in ours.index]
    snap = org.employees.set_index("employee_id")["manager_id"]
    at = managers_at(org.employees, AS_OF, org.job_events)
    assert (at.reindex(snap.index).fillna("-") != snap.fillna("-")).sum() > 100


def test_only_the_managers_people_direct_and_indirect(org, view, wide) -> None:
    active = _active(org, AS_OF)
    boss = _plain_managers(org, AS_OF)
    direct = {e for e, m in boss.items() if m == MANAGER} & active
    assert set(view.members["employee_id"]) == direct and len(direct) == 11
    assert view.members["relation"].eq("direct").all()
    # the export's snapshot alone would give another team (they moved after AS_OF)
    snap = org.employees.set_index("employee_id")["manager_id"]
    assert not set(snap[snap == MANAGER].index) & direct
    subtree = _subtree_at(org, SKIP_LEVEL, AS_OF) & active
    assert set(wide.members["employee_id"]) == subtree and len(subtree) == 12
    assert set(wide.members.loc[wide.members["relation"] == "direct", "employee_id"]) == {MANAGER}
    assert set(wide.members.loc[wide.members["level"] == 2, "reports_to"]) == {MANAGER}
    # every table of both views speaks of the team only
    for v, people in ((view, direct), (wide, subtree)):
        for name in TABLES:
            assert set(getattr(v, name)["employee_id"].astype(str)) <= people, name
        assert set(v.heatmap["employee_id"]) == people
        assert set(v.agility["employee_id"]) == set(v.progress["employee_id"]) == people
    assert len(view.suggestions) > 0


def test_unknown_manager_and_empty_team_are_clear_errors(org, statements) -> None:
    with pytest.raises(ValueError, match=r"manager_id 'E9999999' is not an employee_id"):
        _view(org, statements, manager="E9999999")
    managers = set(_plain_managers(org, AS_OF).values())
    leaf = sorted(_active(org, AS_OF) - managers)[0]
    with pytest.raises(ValueError, match=rf"manager '{leaf}' has no active direct reports"):
        _view(org, statements, manager=leaf)


# ----------------------------------------------------------------------- point in time
def test_only_facts_before_as_of(org, statements, view, wide) -> None:
    """Ratings, reviews, statements and manager changes dated at or after as_of change
    nothing; the same rating one second earlier does."""
    someone = view.members["employee_id"].iloc[0]
    comp = org.competency_ratings
    late_ratings = pd.concat(
        [
            comp,
            pd.DataFrame(
                {
                    "employee_id": [someone] * 2,
                    "cycle_id": ["late", "later"],
                    "competency": ["Project Management", "Leadership"],
                    "rating": [1.0, 5.0],
                    "submitted_at": [AS_OF, AS_OF + pd.Timedelta(days=30)],
                }
            ).astype(comp.dtypes.to_dict()),
        ],
        ignore_index=True,
    )
    rev = org.reviews
    late_review = (
        rev[rev["employee_id"] == someone]
        .tail(1)
        .assign(
            cycle_id="late",
            overall_rating=1.0,
            period_end=AS_OF - pd.Timedelta(days=1),
            submitted_at=AS_OF,
        )
    )
    act = org.catalog.explode("skills")
    course = act[(act["skills"] == "Client Management") & (act["level"] == 4)]["activity_id"].iloc[
        0
    ]
    st = statements[statements["verb"] == "completed"].head(1)
    late_statement = st.assign(
        employee_id=someone,
        object_id=course,
        statement_id="late-statement",
        timestamp=AS_OF - pd.Timedelta(days=1),
        stored=AS_OF,
    )
    moves = pd.DataFrame(
        {
            "employee_id": [someone],
            "effective_date": [AS_OF - pd.Timedelta(days=10)],
            "recorded_at": [AS_OF],
            "event": ["manager_change"],
            "from_value": [MANAGER],
            "to_value": ["E000001"],
        }
    ).astype(org.job_events.dtypes.to_dict())
    later = _view(
        org,
        pd.concat([statements, late_statement], ignore_index=True),
        competency_ratings=late_ratings,
        reviews=pd.concat([rev, late_review], ignore_index=True),
        job_events=pd.concat([org.job_events, moves], ignore_index=True),
    )
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(later, name), getattr(view, name), check_dtype=False)
    # the same rating submitted a second before as_of is seen (the test can fail)
    early = late_ratings.assign(
        submitted_at=late_ratings["submitted_at"].where(
            late_ratings["cycle_id"] != "late", AS_OF - pd.Timedelta(seconds=1)
        )
    )
    seen = _view(org, statements, competency_ratings=early)
    cell = seen.heatmap[
        (seen.heatmap["employee_id"] == someone) & (seen.heatmap["skill"] == "Project Management")
    ]
    assert cell["level"].tolist() == [1.0] and cell["status"].tolist() == ["gap"]
    # the member's department is the one at as_of, not the later transfer of the export
    moved = wide.members.set_index("employee_id").loc["E002363"]
    assert moved["department"] == "Customer Success"
    assert org.employees.set_index("employee_id").loc["E002363", "department"] == "Marketing"


# -------------------------------------------------------------------------- heatmap
def _plain_level(statements, catalog, employee: str, skill: str, t) -> float:
    best = np.nan
    levels = {}
    for r in catalog.itertuples(index=False):
        if skill in list(r.skills):
            levels[r.activity_id] = r.level
    for r in statements[statements["employee_id"] == employee].itertuples(index=False):
        if r.stored >= t or r.object_id not in levels:
            continue
        failed = r.verb == "failed" or r.success is False
        done = r.verb in ("completed", "passed", "mastered") or r.completion is True
        if done and not failed:
            best = levels[r.object_id] if np.isnan(best) else max(best, levels[r.object_id])
    return float(best)


def _plain_rating(ratings, employee: str, competency: str, t) -> float:
    best, when = np.nan, None
    for r in ratings[ratings["employee_id"] == employee].itertuples(index=False):
        if (
            r.competency == competency
            and r.submitted_at < t
            and (when is None or r.submitted_at > when)
        ):
            best, when = r.rating, r.submitted_at
    return float(best)


def _plain_status(level: float, required: float) -> str:
    if np.isnan(level):
        return "unknown"
    return "gap" if level < required else "meets" if level == required else "strength"


def test_heatmap_statuses_and_colours_match_a_plain_recomputation(org, statements, wide) -> None:
    import matplotlib

    matplotlib.use("Agg")
    hm = wide.heatmap
    assert set(hm["status"]) == set(STATUSES)  # every colour is exercised on this team
    people = wide.members["employee_id"].tolist()
    ax = wide.plot_heatmap()
    grid = np.asarray(ax.images[0].get_array())
    columns = list(dict.fromkeys(zip(hm["source"], hm["skill"], strict=True)))
    colors = ax.images[0].cmap.colors
    for e in people[:4] + people[-2:]:
        family = wide.members.set_index("employee_id").loc[e, "job_family"]
        for source, skill in columns:
            if source == "competency":
                level, required = _plain_rating(org.competency_ratings, e, skill, AS_OF), 3.0
            else:
                role = ROLES.get(family)
                if role is None or skill not in role.skills:
                    continue
                level = _plain_level(statements, org.catalog, e, skill, AS_OF)
                required = float(role.skills[skill])
            expected = _plain_status(level, required)
            row = hm[(hm["employee_id"] == e) & (hm["skill"] == skill) & (hm["source"] == source)]
            assert row["status"].tolist() == [expected], (e, skill)
            code = grid[people.index(e), columns.index((source, skill))]
            assert matplotlib.colors.to_hex(colors[int(code)]) == COLORS[expected]
    assert COLORS["gap"] == "#d73027" and COLORS["strength"] == "#1a9850"
    matplotlib.pyplot.close("all")


# -------------------------------------------------------------------------- agility
def test_agility_is_opportunity_normalized_never_offhours(
    org, statements, view, monkeypatch
) -> None:
    ranked = view.agility.dropna(subset=["agility_per_workday_365d"])
    assert ranked["agility_per_workday_365d"].is_monotonic_decreasing
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    for name in ("agility_offhours_365d", "offhours_share_90d"):
        with pytest.raises(PurposeLimitationError, match="sensitive_proxy"):
            _view(org, statements, agility=name) if "agility" in name else _view(
                org, statements, learning=name
            )
    offhours_rule = RuleSet(
        [
            {
                "id": "night-owls",
                "when": [{"feature": "agility_offhours_365d", "op": ">", "value": 3}],
                "then": [{"action": "notify", "target": "manager"}],
            }
        ]
    )
    with pytest.raises(PurposeLimitationError, match="agility_offhours_365d"):
        _view(org, statements, ruleset=offhours_rule)
    with pytest.raises(ValueError, match="opportunity-normalized"):
        _view(org, statements, agility="agility_standard_365d")
    assert not [m for m in AGILITY_MEASURES if OFFHOURS.search(m)]
    # the features the view asks for: none is an off-hours measure (a sensitive proxy)
    asked: list[list[str]] = []
    real_build = tml.features.build

    def recording_build(*args, **kwargs):
        asked.append(list(kwargs["features"]))
        return real_build(*args, **kwargs)

    monkeypatch.setattr(tml.features, "build", recording_build)
    _view(org, statements)
    proxies = set(tml.features.catalog().query("sensitive_proxy")["name"])
    assert asked and not proxies & set(asked[0]) and "agility_per_workday_365d" in asked[0]
    monkeypatch.undo()
    # given features with scrambled off-hours columns, the ranking is the same
    spine = view.members[["employee_id"]].assign(as_of=AS_OF)
    X = tml.features.build(
        spine,
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        job_events=org.job_events,
        course_catalog=org.catalog,
        show_progress=False,
    )
    rng = np.random.default_rng(0)
    for col in [c for c in X.columns if OFFHOURS.search(c)]:
        X[col] = rng.permutation(X[col].to_numpy()) * 10
    again = _view(org, statements, X=X)
    pd.testing.assert_frame_equal(again.agility, view.agility, check_dtype=False)
    assert not OFFHOURS.search(again.to_json())
    for name in TABLES:
        assert not [c for c in getattr(again, name).columns if OFFHOURS.search(c)]


# ------------------------------------------------------------------ purpose limitation
def test_sensitive_attributes_never_appear(org, statements) -> None:
    sens = org.sensitive.rename(columns={"sex": "gender"})[["employee_id", "gender", "caregiver"]]
    employees = org.employees.merge(sens, on="employee_id", how="left")
    v = _view(org, statements, employees=employees, manager=SKIP_LEVEL, indirect=True)
    for name in TABLES:
        check_purpose(getattr(v, name).columns, table=name)
    check_purpose(v.to_frame().columns, table="to_frame")
    doc = json.loads(v.to_json())
    keys: set[str] = set()

    def walk(o):
        if isinstance(o, dict):
            keys.update(o)
            for x in o.values():
                walk(x)
        elif isinstance(o, list):
            for x in o:
                walk(x)

    walk(doc)
    assert not {normalize_name(k) for k in keys} & sensitive_names()
    html = v.to_html().lower()
    assert "gender" not in html and "caregiver" not in html
    # pseudonymous ids only: no name or e-mail address of the organization
    emails = set(org.hris_identities["email"].astype(str))
    names = {s["actor"].get("name") for s in org.raw_statements[:3000]} - {None}
    assert not [x for x in emails | names if x.lower() in html]
    # a rule set that reads a protected column is refused
    bad = RuleSet(
        [
            {
                "id": "x",
                "when": [{"column": "gender", "op": "==", "value": "F"}],
                "then": [{"action": "notify", "target": "manager"}],
            }
        ]
    )
    with pytest.raises(PurposeLimitationError, match="gender"):
        _view(org, statements, employees=employees, ruleset=bad)


# ---------------------------------------------------------------------------- assign
@pytest.fixture(scope="module")
def ralph(tmp_path_factory):
    server = start_ralph(tmp_path_factory.mktemp("ralph-team"), users=[RalphUser("team", "team")])
    yield server
    server.stop()


@pytest.mark.lrs
def test_assign_reaches_ralph_exactly_once_across_retries(org, view, ralph, tmp_path) -> None:
    enroll = view.suggestions[view.suggestions["action"] == "enroll"]
    key = str(enroll["action_key"].iloc[0])
    store = ActionStore(tmp_path / "actions.duckdb")
    # the LRS stores the statement, the answer is lost, the client retries: 204, nothing new
    with FaultProxy(ralph.base_url, faults={1: Fault.drop_mid_response()}) as proxy:
        client = tml.xapi.LRSClient(
            proxy.endpoint,
            auth=ralph.credentials("team"),
            show_progress=False,
            sleep=lambda s: None,
            session=local_session(),
        )
        first = view.assign(key, sink=client, actors=org.hris_identities, store=store)
    assert [r.upstream_status for r in proxy.records] == [200, 204]
    assert first["status"].tolist() == ["already_stored"] and first["attempts"].tolist() == [2]
    # a second click: the store knows it was delivered, nothing is sent
    client = tml.xapi.LRSClient(
        ralph.endpoint, auth=ralph.credentials("team"), show_progress=False, session=local_session()
    )
    again = view.assign(key, sink=client, actors=org.hris_identities, store=store)
    assert again["status"].tolist() == ["already_delivered"] and client.n_requests == 0
    # without the store the LRS recognizes the statement id
    forced = view.assign(key, sink=client, actors=org.hris_identities)
    assert forced["status_code"].tolist() == [204]
    lines = [json.loads(x) for x in ralph.store_file("team").read_text().splitlines() if x]
    assert [s["id"] for s in lines] == [statement_id(key)]
    assert lines[0]["object"]["id"] == PM_COURSE
    assert (
        lines[0]["actor"]["account"]["name"]
        == org.hris_identities.set_index("employee_id").loc[
            enroll["employee_id"].iloc[0], "lms_user"
        ]
    )


def test_assign_to_the_store_is_idempotent_and_refuses_unknown_keys(
    org, statements, view, tmp_path
) -> None:
    store = ActionStore(tmp_path / "actions.duckdb")
    key = str(view.suggestions["action_key"].iloc[0])
    assert view.assign(key, sink=store)["status"].tolist() == ["recorded"]
    assert view.assign(key, sink=store)["status"].tolist() == ["already_recorded"]
    assert store.actions()["action_key"].tolist() == [key]
    later = _view(org, statements, store=store)
    assert key in set(later.open_actions["action_key"])
    assert key not in set(later.suggestions["action_key"])
    assert len(later.suggestions) == len(view.suggestions) - 1
    with pytest.raises(ValueError, match="neither an open nor a suggested action"):
        view.assign("nope", sink=store)
    notify = view.suggestions[view.suggestions["action"] == "notify"]
    if len(notify):
        client = tml.xapi.LRSClient("http://127.0.0.1:9/xAPI/", show_progress=False)
        with pytest.raises(ValueError, match="only 'enroll' actions"):
            view.assign(str(notify["action_key"].iloc[0]), sink=client, actors=org.hris_identities)
    with pytest.raises(TypeError, match="sink must be"):
        view.assign(key, sink=object())


def test_assign_by_webhook_is_processed_once(view, tmp_path) -> None:
    from test_loop_actions import Receiver

    receiver = Receiver("team-webhook-secret", schedule={1: "process_then_drop"})
    try:
        key = str(view.suggestions["action_key"].iloc[-1])
        store = ActionStore(tmp_path / "actions.duckdb")
        sender = WebhookSender(
            receiver.url,
            secret="team-webhook-secret",
            sleep=lambda s: None,
            session=local_session(),
        )
        first = view.assign(key, sink=sender, store=store)
        # processed, the answer lost, the retry recognized (409): delivered once
        assert first["status"].tolist() == ["duplicate"] and first["attempts"].tolist() == [2]
        assert view.assign(key, sink=sender, store=store)["status"].tolist() == [
            "already_delivered"
        ]
        assert list(receiver.processed) == [key] and receiver.duplicates == 1
        assert receiver.processed[key]["employee_id"] == str(
            view.suggestions["employee_id"].iloc[-1]
        )
        assert store.open_actions()["action_key"].tolist() == [key]
    finally:
        receiver.close()


# ------------------------------------------------------------------------ HTML, JSON
def test_json_and_frame(view) -> None:
    doc = json.loads(view.to_json())
    assert doc["manager_id"] == MANAGER and doc["as_of"].startswith("2025-06-01")
    assert len(doc["heatmap"]) == len(view.heatmap) and set(doc) >= set(TABLES)
    frame = view.to_frame()
    assert len(frame) == len(view.members)
    assert (
        frame[[f"n_{s}" for s in STATUSES]].sum(axis=1)
        == view.heatmap.groupby("employee_id").size().reindex(frame["employee_id"]).to_numpy()
    ).all()
    assert frame["n_suggestions"].sum() == len(view.suggestions)


def _browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        if os.environ.get("TALENTML_TEST_PROFILE", "") == "full":
            pytest.fail(
                f"{missing} not found: install the Debian packages chromium chromium-driver"
            )
        pytest.skip(f"headless Chromium is not installed ({', '.join(missing)})")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1300,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def test_html_renders_in_headless_chromium(wide, tmp_path) -> None:
    path = tmp_path / "team.html"
    text = wide.to_html(path)
    assert path.read_text(encoding="utf-8") == text
    assert not re.search(r"<(?:script|link|iframe)\b", text)
    assert not OFFHOURS.search(text)
    srcs = re.findall(r'<img src="([^"]{0,40})', text)
    assert len(srcs) == 2 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert wide.to_html() == text  # reproducible bytes
    driver = _browser()
    try:
        driver.get(path.as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"
        )
        sections = driver.execute_script(
            "return Array.from(document.querySelectorAll('section[data-section]'))"
            ".map(s => s.dataset.section)"
        )
        cells = driver.execute_script(
            "return Array.from(document.querySelectorAll('table[data-table=heatmap] td'))"
            ".map(td => [td.className, getComputedStyle(td).backgroundColor])"
        )
        log = driver.get_log("browser")
    finally:
        driver.quit()
    assert sections == ["summary", "skills", "progress", "agility", "actions"]
    assert all(ok and w > 0 for _, ok, w in images), images
    rgb = {
        "st-gap": "rgb(215, 48, 39)",
        "st-strength": "rgb(26, 152, 80)",
        "st-unknown": "rgb(189, 189, 189)",
    }
    for cls, color in cells:
        if cls in rgb:
            assert color == rgb[cls]
    assert {c for c, _ in cells} >= set(rgb)
    assert not [e for e in log if e["level"] == "SEVERE"]
