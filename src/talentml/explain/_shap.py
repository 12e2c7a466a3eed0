"""``explain``: SHAP values of a talentml model, as an :class:`Explanation` with reasons."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters
from ..config import show_progress as _show_progress
from ._business import BusinessFeatures
from ._coder import ReasonCoder
from ._design import ID_COLUMNS, ModelView, import_shap, model_view
from ._global import importance_frame, segment_frame
from ._reasons import reason_frame
from ._treeshap import MAX_TABLE_BYTES, METHODS, UnsupportedBooster, tree_tables, xgboost_contribs

__all__ = ["Explainer", "Explanation", "explain"]

logger = logging.getLogger(__name__)

#: ``method="auto"`` builds the path tables for at least this many rows (else XGBoost's
#: TreeSHAP, unless the tables are already cached for the booster).
AUTO_TABLE_ROWS = 256


class Explanation:
    """SHAP values of a model's margin for the rows of ``X``, with reasons and global views.

    Made by :func:`explain` (or :meth:`Explainer.explain`); not built directly. The values are
    exact path-dependent TreeSHAP values of the booster's margin (log-odds for
    :class:`~talentml.models.FlightRisk` and :class:`~talentml.models.HighPotential`,
    log-hazard for the FlightRisk survival view, log-days for
    :class:`~talentml.models.RampUp`): for every row, ``base_values + values.sum(axis=1)``
    equals the margin.

    Attributes
    ----------
    values : pandas.DataFrame
        One column per model input, index aligned with ``X``.
    base_values : pandas.Series
        The expected margin (the same for every row).
    margin : pandas.Series
        ``base_values + values.sum(axis=1)``: the booster's margin for each row.
    data : pandas.DataFrame
        The model inputs of ``X`` as given (category labels, not codes).
    ids : pandas.DataFrame
        ``employee_id`` and ``as_of`` when ``X`` had them (else empty).
    interaction_values : numpy.ndarray or None
        SHAP interaction values, shape (n, p, p), when requested.
    margin_kind : str
        ``"log-odds"``, ``"log-hazard"``, ``"log-days"`` or ``"margin"``.
    method : str
        The algorithm used: ``"tables"``, ``"xgboost"`` (or ``"xgboost-cuda"``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import explain
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 400),
    ...                   "tenure_days": rng.uniform(30, 3000, 400)})
    >>> y = (rng.random(400) < X["days_since_last_activity"] / 150).astype(int)
    >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
    >>> ex = explain(model, X)
    >>> bool(np.allclose(ex.margin, model.booster_.predict(model.design_matrix(X),
    ...                                                    output_margin=True), atol=1e-4))
    True
    """

    def __init__(
        self,
        *,
        values: np.ndarray,
        base_value: float,
        design: np.ndarray,
        X: pd.DataFrame,
        view: ModelView,
        business: BusinessFeatures,
        explainer: Explainer,
        method: str,
        interaction_values: np.ndarray | None = None,
    ) -> None:
        self._values = values
        self._base = float(base_value)
        self._design = design
        self._X = X
        self._view = view
        self._business = business
        self._explainer = explainer
        self.method = method
        self.interaction_values = interaction_values
        self.margin_kind = view.margin_kind
        self.feature_names = list(view.feature_names)
        self._peers: tuple[pd.DataFrame | None, np.ndarray | None] | None = None
        self._flags: set[str] | None = None
        self._grouped: np.ndarray | None = None

    # ------------------------------------------------------------------- accessors
    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return (
            f"Explanation({len(self)} rows x {len(self.feature_names)} features, "
            f"{self._view.prefix} {self.margin_kind} margin, method={self.method!r})"
        )

    @property
    def index(self) -> pd.Index:
        """The index of the explained rows (that of ``X``)."""
        return self._X.index

    @property
    def values(self) -> pd.DataFrame:
        """SHAP values, one column per model input, index aligned with ``X``."""
        return pd.DataFrame(self._values, index=self._X.index, columns=self.feature_names)

    @property
    def base_values(self) -> pd.Series:
        """The expected margin (the SHAP base value), the same for every row."""
        return pd.Series(np.full(len(self), self._base), index=self._X.index, name="base_value")

    @property
    def margin(self) -> pd.Series:
        """``base_values + values.sum(axis=1)``: the booster's margin of each row."""
        return pd.Series(self._base + self._values.sum(axis=1), index=self._X.index, name="margin")

    @property
    def data(self) -> pd.DataFrame:
        """The model inputs of ``X`` as given (category labels, not codes)."""
        return self._X[self.feature_names]

    @property
    def ids(self) -> pd.DataFrame:
        """``employee_id`` and ``as_of`` of the rows, when ``X`` has them (else no column)."""
        cols = [c for c in ID_COLUMNS if c in self._X.columns]
        return self._X[cols]

    @property
    def business(self) -> pd.DataFrame:
        """The business features: family, catalog flags, kind, the columns folded into each."""
        return self._business.info.reset_index(drop=True).drop(columns="token")

    @property
    def business_values(self) -> pd.DataFrame:
        """SHAP values summed per business feature (one-hot and grouped columns folded)."""
        return pd.DataFrame(self._folded(), index=self._X.index, columns=self._business.names)

    def _folded(self) -> np.ndarray:
        if self._grouped is None:
            self._grouped = self._business.fold(self._values)
        return self._grouped

    # ------------------------------------------------------------------------ shap
    def to_shap(self, *, grouped: bool = False, interactions: bool = False):
        """Return a ``shap.Explanation`` for the shap plots.

        Parameters
        ----------
        grouped : bool, default False
            Business features instead of model columns (values summed; ``data`` holds the
            displayed value, e.g. the level of a one-hot group).
        interactions : bool, default False
            Put the interaction values (n, p, p) in ``values`` (needs
            ``explain(..., interactions=True)``).

        Returns
        -------
        shap.Explanation
            ``values``, ``base_values``, ``data`` (the encoded inputs; category codes),
            ``display_data`` (the inputs as given) and ``feature_names``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> from talentml.explain import explain
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"tenure_days": rng.uniform(30, 3000, 300),
        ...                   "department": rng.choice(["Sales", "Data"], 300)})
        >>> y = (rng.random(300) < 0.3).astype(int)
        >>> model = FlightRisk(n_estimators=10, random_state=0).fit(X, y)
        >>> sv = explain(model, X).to_shap()
        >>> sv.values.shape, sv.feature_names
        ((300, 2), ['tenure_days', 'department'])
        """
        shap = import_shap()

        if interactions:
            if self.interaction_values is None:
                raise ValueError("no interaction values: call explain(..., interactions=True)")
            if grouped:
                raise ValueError("grouped interaction values are not available")
            return shap.Explanation(
                values=self.interaction_values,
                base_values=np.full(len(self), self._base),
                data=self._design,
                feature_names=list(self.feature_names),
            )
        if grouped:
            display = self._business_display()
            names = self._business.names
            data = np.column_stack([display[b] for b in names]) if len(self) else None
            numeric = np.full((len(self), len(names)), np.nan)
            for j, b in enumerate(names):
                try:
                    numeric[:, j] = pd.to_numeric(pd.Series(display[b]), errors="coerce")
                except (TypeError, ValueError):
                    pass
            return shap.Explanation(
                values=self._folded(),
                base_values=np.full(len(self), self._base),
                data=numeric,
                display_data=data,
                feature_names=list(names),
            )
        return shap.Explanation(
            values=self._values,
            base_values=np.full(len(self), self._base),
            data=self._design,
            display_data=self.data.to_numpy(dtype=object),
            feature_names=list(self.feature_names),
        )

    # --------------------------------------------------------------------- reasons
    def _column_display(self) -> dict[str, np.ndarray]:
        """Each model column's values as given (floats for numbers, labels otherwise)."""
        out: dict[str, np.ndarray] = {}
        categorical = set(self._view.categories) | set(getattr(self._view, "raw_categoricals", []))
        for j, col in enumerate(self.feature_names):
            if col in categorical:
                s = self._X[col]
                out[col] = s.astype(object).where(s.notna(), None).to_numpy(dtype=object)
            else:
                out[col] = self._design[:, j]
        return out

    def _level_display(self) -> dict[str, np.ndarray]:
        """For one-hot business features: the level whose column is set, per row."""
        out: dict[str, np.ndarray] = {}
        for b, kind in zip(self._business.names, self._business.kind, strict=True):
            if kind != "onehot":
                continue
            cols = self._business.records[b]["columns"]
            M = np.column_stack(
                [
                    pd.to_numeric(self._X[c], errors="coerce").to_numpy(
                        dtype=np.float64, na_value=np.nan
                    )
                    for c in cols
                ]
            )
            hot = np.nan_to_num(M, nan=0.0) > 0
            levels = np.asarray(
                [str(self._business.level[self.feature_names.index(c)]) for c in cols],
                dtype=object,
            )
            shown = np.full(len(self._X), None, dtype=object)
            has = hot.any(axis=1)
            shown[has] = levels[np.argmax(hot, axis=1)[has]]
            out[b] = shown
        return out

    def _business_display(self) -> dict[str, np.ndarray]:
        """One value per business feature and row (for ``to_shap(grouped=True)``)."""
        columns = self._column_display()
        levels = self._level_display()
        info = self._business.info
        out = {}
        for b in self._business.names:
            if b in levels:
                out[b] = levels[b]
            else:
                members = info.loc[b, "columns"]
                out[b] = columns[b] if b in columns else columns[members[0]]
        return out

    def _peer_values(self) -> tuple[pd.DataFrame | None, np.ndarray | None]:
        if self._peers is None:
            self._peers = self._explainer.coder.peer_lookup(self._X)
        return self._peers

    def top_reasons(
        self,
        k: int = 3,
        *,
        direction: str = "both",
        include_proxies: bool = True,
        same_as_peers: str = "drop",
    ) -> pd.DataFrame:
        """The top ``k`` drivers raising and lowering each row's score, in words.

        Contributions are folded into business features (one-hot and grouped columns summed)
        and ranked by size in each direction. Each text comes from the column's template
        (the feature catalog's, a :func:`describe_columns` entry, or a readable fallback:
        the name in words, a 0/1 flag as yes/no, a category as "salary: low" or "works in
        the Sales department") with the employee's value and the peer reference (the median
        of the peer group at the same ``as_of``; see ``peers`` of :func:`explain`).
        Sensitive proxies are marked in the text and never proposed by :func:`recourse`.

        A driver whose value reads the same as its peer reference ("had accident: no" where
        most peers have none) does not explain why this employee differs: by default it
        gives way to the next driver. Equal contributions are ordered by the business
        feature's position in the model's columns (the first column first).

        Parameters
        ----------
        k : int, default 3
            Reasons per row and direction.
        direction : {"both", "up", "down"}, default "both"
            ``"up"``: drivers raising the score (for FlightRisk, the risk); ``"down"``:
            lowering it.
        include_proxies : bool, default True
            Rank sensitive proxies too (marked); False leaves them out.
        same_as_peers : {"drop", "mark"}, default "drop"
            A driver whose value reads the same as its peer reference (equal at the
            precision its text shows): ``"drop"`` leaves it out, ``"mark"`` keeps it with
            ``vs_peers="same"`` and "(the same as the team median)" in the text.

        Returns
        -------
        pandas.DataFrame
            One row per reason: ``employee_id`` and ``as_of`` (when ``X`` has them, else
            ``row``, the index label), ``rank`` (1 = largest), ``direction`` (``up`` /
            ``down``), ``code`` (stable, e.g. ``FR-LEARN-DROPOFF-UP``), ``text``,
            ``feature`` (the business feature), ``family``, ``evidence`` (the column the
            text shows), ``value``, ``peer_value``, ``peer_scope``, ``vs_peers``
            (``above``, ``below``, ``same``, or empty without a reference),
            ``contribution`` (SHAP, margin units), ``actionable``, ``sensitive_proxy``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> from talentml.explain import explain
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 400),
        ...                   "tenure_days": rng.uniform(30, 3000, 400)})
        >>> y = (rng.random(400) < X["days_since_last_activity"] / 150).astype(int)
        >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
        >>> reasons = explain(model, X).top_reasons(1, direction="up")
        >>> reasons.columns[:5].tolist()
        ['row', 'rank', 'direction', 'code', 'text']
        >>> top = reasons.loc[reasons["row"] == X["days_since_last_activity"].idxmax()]
        >>> top["code"].item(), top["vs_peers"].item()
        ('FR-LEARN-INACTIVE-DAYS-UP', 'above')
        """
        coder = self._explainer.coder
        peers, scope = self._peer_values()
        if self._flags is None:
            self._flags = coder.flags_for(self._X)
        rows = coder.rows(
            values=self._values,
            numbers=self._design,
            labels=coder.display_labels(self._X),
            peers=None if peers is None else peers.to_numpy(),
            scope=scope,
            peer_columns=None if peers is None else list(peers.columns),
            flags=self._flags,
            G=self._folded(),
        )
        arrays = coder.arrays(
            rows,
            k=k,
            direction=direction,
            include_proxies=include_proxies,
            same_as_peers=same_as_peers,
        )
        return reason_frame(arrays, coder.ids(self._X))

    # ----------------------------------------------------------------- global views
    def importance(self, *, by: str = "business") -> pd.DataFrame:
        """Global importance: mean |SHAP| per business feature, model column or family.

        Parameters
        ----------
        by : {"business", "feature", "family"}, default "business"
            Business features (one-hot and grouped columns folded), model columns, or
            feature families (learning, reviews, hris, other).

        Returns
        -------
        pandas.DataFrame
            ``rank``, the name, ``family`` (except by family), ``mean_abs_contribution``,
            ``mean_contribution`` and ``share`` (of the total mean |SHAP|), largest first.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> from talentml.explain import explain
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 400),
        ...                   "tenure_days": rng.uniform(30, 3000, 400)})
        >>> y = (rng.random(400) < X["days_since_last_activity"] / 150).astype(int)
        >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
        >>> explain(model, X).importance(by="family")["family"].tolist()
        ['learning', 'hris']
        """
        return importance_frame(self._values, self.feature_names, self._business, by=by)

    @renamed_parameters(top="k")
    def segments(self, by: Any, *, k: int = 3) -> pd.DataFrame:
        """Per-segment summaries: size, mean margin and the top drivers of each segment.

        Parameters
        ----------
        by : str or array-like
            A column of ``X`` (e.g. ``"department"``, ``"job_level"``) or one label per row.
        k : int, default 3
            Business features per segment, by mean |SHAP| within the segment.

        Returns
        -------
        pandas.DataFrame
            The segment, ``n``, ``mean_margin``, ``rank``, ``feature``, ``family``,
            ``mean_contribution``, ``mean_abs_contribution`` and ``vs_overall`` (the mean
            contribution minus its mean over all rows).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> from talentml.explain import explain
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 400),
        ...                   "department": rng.choice(["Sales", "Data"], 400)})
        >>> y = (rng.random(400) < X["days_since_last_activity"] / 150).astype(int)
        >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
        >>> seg = explain(model, X).segments("department", k=1)
        >>> seg[["department", "rank", "feature"]].to_dict("records")[0]
        {'department': 'Data', 'rank': 1, 'feature': 'days_since_last_activity'}
        """
        if isinstance(by, str):
            if by not in self._X.columns:
                raise ValueError(f"segments: {by!r} is not a column of X")
            labels = self._X[by].astype(object).where(self._X[by].notna(), None).to_numpy()
            name = by
        else:
            labels = np.asarray(by, dtype=object)
            if labels.shape != (len(self),):
                raise ValueError(
                    f"segments: need one label per row ({len(self)}), got {labels.shape}"
                )
            name = "segment"
        return segment_frame(
            self._folded(), self.margin.to_numpy(), self._business, labels, name=name, k=k
        )


class Explainer:
    """A reusable explainer: the model's SHAP tables, business features and peer reference.

    Build it once (per model and population snapshot) and call :meth:`explain` for any
    rows, down to one employee: the trees are parsed and the path tables computed once, and
    peer medians come from ``reference``. :func:`explain` is the one-call shortcut.

    Parameters
    ----------
    model : FlightRisk, HighPotential, RampUp, xgboost.Booster or XGBoost sklearn model
        A fitted model. Talentml estimators give codes prefixed ``FR``, ``HP``, ``RU``.
    booster : {"main", "survival"}, default "main"
        The booster to explain: the main one (classifier log-odds, RampUp log-days) or the
        FlightRisk survival view (Cox log-hazard).
    method : {"auto", "tables", "xgboost"}, default "auto"
        ``"tables"``: talentml's path-table TreeSHAP (exact, fast on CPU; see the user
        guide); ``"xgboost"``: XGBoost's own TreeSHAP (GPUTreeShap on a CUDA device);
        ``"auto"``: the tables when they fit in memory and are worth building (cached, or at
        least 256 rows), else XGBoost's; always XGBoost's on a CUDA device.
    device : str, optional
        ``"cpu"`` or ``"cuda"`` (XGBoost's GPUTreeShap); default: the model's ``device``.
    feature_catalog : pandas.DataFrame or mapping, optional
        How columns are said (default :func:`talentml.features.catalog`; pass the one of the
        windows the features were built with): a catalog, :func:`describe_columns` of your
        own columns (alone, or concatenated with the catalog), or a mapping ``{column:
        description}`` merged with the default catalog. Other columns read as their name in
        words.
    groups : "auto", mapping or None, default "auto"
        How columns fold into business features beyond the catalog and one-hot levels:
        ``"auto"`` folds the concepts of ``talentml.explain.CONCEPTS`` (the learning
        drop-off); a mapping ``{column: business feature}`` or ``{business feature:
        [columns]}`` folds exactly those; None folds nothing more.
    reference : pandas.DataFrame, optional
        Rows the peer medians come from (with ``as_of`` and the model columns). Default: the
        rows being explained.
    peers : str or array-like, default "auto"
        Peer groups: ``"team"`` (needs ``employees``), a column of ``X`` such as
        ``"job_family"``, ``"all"``, or one label per reference row. ``"auto"``: team when
        ``employees`` is given, else job family when ``X`` has it, else all.
    employees, job_events : pandas.DataFrame, optional
        For ``peers="team"``: the manager of each row at its ``as_of``.
    min_peers : int, default 5
        Smallest peer group whose median is shown (else all employees at the ``as_of``).
    n_jobs : int, optional
        Threads (None: all cores).
    show_progress : bool, optional
        tqdm bar over rows (default: the talentml setting).
    coder : ReasonCoder, optional
        A fitted :class:`ReasonCoder` (e.g. a served model's, ``Scorer.coder``); it then
        gives the catalog, groups, reference and peers, and those arguments are ignored.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import Explainer
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 400),
    ...                   "tenure_days": rng.uniform(30, 3000, 400)})
    >>> y = (rng.random(400) < X["days_since_last_activity"] / 150).astype(int)
    >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
    >>> explainer = Explainer(model, reference=X, peers="all")
    >>> one = X.loc[[X["days_since_last_activity"].idxmax()]]
    >>> reason = explainer.explain(one).top_reasons(1, direction="up")
    >>> reason[["code", "text"]].to_numpy().tolist()
    [['FR-LEARN-INACTIVE-DAYS-UP', 'no learning activity for 244 days (median of all employees: 24)']]
    """

    def __init__(
        self,
        model: Any,
        *,
        booster: str = "main",
        method: str = "auto",
        device: str | None = None,
        feature_catalog: pd.DataFrame | Mapping | None = None,
        groups: Mapping | str | None = "auto",
        reference: pd.DataFrame | None = None,
        peers: Any = "auto",
        employees: pd.DataFrame | None = None,
        job_events: pd.DataFrame | None = None,
        min_peers: int = 5,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
        coder: ReasonCoder | None = None,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.model = model
        self.view = model_view(model, booster=booster)
        self.booster = booster
        self.method = method
        self.device = str(device or self.view.device)
        self.prefix = self.view.prefix
        if coder is None:
            coder = ReasonCoder(
                feature_catalog=feature_catalog, groups=groups, peers=peers, min_peers=min_peers
            ).fit(model, reference, employees=employees, job_events=job_events)
        else:
            if not isinstance(coder, ReasonCoder):
                raise TypeError(f"coder must be a fitted ReasonCoder, got {type(coder).__name__}")
            coder.check_columns(self.view.feature_names)
        self.coder = coder
        self.catalog = coder.catalog_
        self.business = coder.business_
        self.peers = coder.peers
        self.employees = coder.employees_
        self.job_events = coder.job_events_
        self.min_peers = int(coder.min_peers)
        self.n_jobs = n_jobs
        self.show_progress = show_progress
        self._tables = None
        if method == "tables" or (method == "auto" and not self.device.startswith("cuda")):
            self._tables = self._try_tables(force=method == "tables")

    def _try_tables(self, *, force: bool):
        try:
            tables = tree_tables(self.view.booster, build=False)
        except UnsupportedBooster as err:
            if force:
                raise ValueError(f"method='tables' does not support this booster: {err}") from err
            logger.info("explain: %s; using XGBoost's TreeSHAP", err)
            return None
        if tables.max_depth > 24:
            message = f"trees of depth {tables.max_depth} are too deep for path tables"
            if force:
                raise ValueError(f"method='tables': {message}")
            logger.info("explain: %s; using XGBoost's TreeSHAP", message)
            return None
        if tables.table_bytes_estimate > MAX_TABLE_BYTES:
            message = (
                f"path tables would take about {tables.table_bytes_estimate / 2**20:,.0f} MiB "
                f"(trees of depth {tables.max_depth})"
            )
            if force:
                logger.warning("explain: %s", message)
            else:
                logger.info("explain: %s; using XGBoost's TreeSHAP", message)
                return None
        return tables

    def _progress(self) -> bool:
        return _show_progress() if self.show_progress is None else bool(self.show_progress)

    # -------------------------------------------------------------------- explain
    def explain(self, X: pd.DataFrame, *, interactions: bool = False) -> Explanation:
        """Explain the rows of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            The model columns (extra columns, such as ``employee_id``, ``as_of`` or a peer
            column, are kept for ids and peers and otherwise ignored).
        interactions : bool, default False
            Also compute SHAP interaction values (XGBoost's, (n, p, p); memory grows with
            ``p**2`` per row).

        Returns
        -------
        Explanation
            SHAP values, reasons and global views.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import RampUp
        >>> from talentml.explain import Explainer
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"onboarding_completions_first_30d": rng.poisson(3, 300)})
        >>> days = np.exp(4.5 - 0.2 * X.iloc[:, 0] + 0.2 * rng.normal(size=300))
        >>> model = RampUp(n_estimators=30, distribution_scale=0.2, random_state=0).fit(X, days)
        >>> ex = Explainer(model).explain(X)
        >>> ex.margin_kind, ex.values.shape
        ('log-days', (300, 1))
        """
        X = self.view.check_frame(X)
        n = len(X)
        progress = self._progress()
        method = self._resolve(n)
        interaction_values = None
        design = self.view.design_array(X)
        dm = None
        if method == "tables":
            values = self._tables.shap(design.T, n_jobs=self.n_jobs, show_progress=progress)
            base = self._tables.expected_value
        else:
            dm = self.view.dmatrix(X)
            contribs = xgboost_contribs(
                self.view.booster, dm, device=self.device, show_progress=progress
            )
            values = contribs[:, :-1]
            base = float(contribs[0, -1]) if n else self._base_value()
        if interactions:
            dm = dm if dm is not None else self.view.dmatrix(X)
            inter = xgboost_contribs(
                self.view.booster,
                dm,
                interactions=True,
                device=self.device,
                show_progress=progress,
            )
            interaction_values = inter[:, :-1, :-1]
        label = (
            method if not self.device.startswith("cuda") or method != "xgboost" else "xgboost-cuda"
        )
        return Explanation(
            values=np.asarray(values, dtype=np.float64),
            base_value=base,
            design=design,
            X=X,
            view=self.view,
            business=self.business,
            explainer=self,
            method=label,
            interaction_values=interaction_values,
        )

    def _base_value(self) -> float:
        tables = tree_tables(self.view.booster, build=False)
        return tables.expected_value

    def _resolve(self, n: int) -> str:
        if self.device.startswith("cuda") and self.method != "tables":
            return "xgboost"
        if self.method == "xgboost" or self._tables is None:
            return "xgboost"
        if self.method == "tables":
            return "tables"
        if (
            self._tables.table is not None
            or n >= AUTO_TABLE_ROWS
            or self.coder.reference_ is not None
        ):
            return "tables"
        return "xgboost"


def explain(
    model: Any,
    X: pd.DataFrame,
    *,
    booster: str = "main",
    interactions: bool = False,
    method: str = "auto",
    device: str | None = None,
    feature_catalog: pd.DataFrame | Mapping | None = None,
    groups: Mapping | str | None = "auto",
    reference: pd.DataFrame | None = None,
    peers: Any = "auto",
    employees: pd.DataFrame | None = None,
    job_events: pd.DataFrame | None = None,
    min_peers: int = 5,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
    coder: ReasonCoder | None = None,
) -> Explanation:
    """Explain a model's scores for the rows of ``X`` with exact TreeSHAP values.

    The SHAP values are those of the booster's margin (log-odds, log-hazard or log-days) and
    add up to it exactly; they equal ``shap.TreeExplainer``'s (path-dependent TreeSHAP).
    The :class:`Explanation` gives them as a DataFrame, as a ``shap.Explanation`` for the
    shap plots, as reasons in words with codes and peer references, and as global views.

    Parameters
    ----------
    model : FlightRisk, HighPotential, RampUp, xgboost.Booster or XGBoost sklearn model
        A fitted model.
    X : pandas.DataFrame
        Rows to explain, with the model's columns (and ``employee_id``/``as_of``).
    booster : {"main", "survival"}, default "main"
        The main booster, or the FlightRisk survival view (Cox log-hazard).
    interactions : bool, default False
        Also compute SHAP interaction values (n, p, p).
    method : {"auto", "tables", "xgboost"}, default "auto"
        The TreeSHAP algorithm (see :class:`Explainer`).
    device : str, optional
        ``"cuda"`` for XGBoost's GPUTreeShap; default: the model's device.
    feature_catalog : pandas.DataFrame or mapping, optional
        How columns are said: the feature catalog (default
        :func:`talentml.features.catalog`), :func:`describe_columns` output, or a mapping
        for it (see :class:`Explainer`).
    groups : "auto", mapping or None, default "auto"
        Folding of columns into business features (see :class:`Explainer`).
    reference : pandas.DataFrame, optional
        Rows the peer medians come from (default: ``X``).
    peers : str or array-like, default "auto"
        Peer groups (see :class:`Explainer`).
    employees, job_events : pandas.DataFrame, optional
        For team peers, rebuilt at each ``as_of``.
    min_peers : int, default 5
        Smallest peer group whose median is shown.
    n_jobs : int, optional
        Threads (None: all cores).
    show_progress : bool, optional
        tqdm bar over rows.
    coder : ReasonCoder, optional
        A fitted :class:`ReasonCoder` to word the reasons with (see :class:`Explainer`).

    Returns
    -------
    Explanation
        SHAP values with ``values``, ``to_shap()``, ``top_reasons(k)``, ``importance()``
        and ``segments()``.

    See Also
    --------
    Explainer : The same, reusable (one employee at a time).
    recourse : Smallest changes to actionable features that move the score.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import explain
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"voluntary_dropoff_30d_vs_prior_90d": rng.uniform(-1, 1, 500),
    ...                   "tenure_days": rng.uniform(30, 3000, 500)})
    >>> y = (rng.random(500) < 0.1 + 0.3 * (X.iloc[:, 0] > 0.5)).astype(int)
    >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
    >>> ex = explain(model, X, peers="all")
    >>> r = ex.top_reasons(1, direction="up")
    >>> r.loc[r["row"] == X.iloc[:, 0].idxmax(), ["code", "text"]].to_numpy().tolist()
    [['FR-LEARN-DROPOFF-UP', 'voluntary learning dropped 99% in the last 30 days compared with the prior 90 (median of all employees: 12%)']]
    """
    return Explainer(
        model,
        booster=booster,
        method=method,
        device=device,
        feature_catalog=feature_catalog,
        groups=groups,
        reference=reference,
        peers=peers,
        employees=employees,
        job_events=job_events,
        min_peers=min_peers,
        n_jobs=n_jobs,
        show_progress=show_progress,
        coder=coder,
    ).explain(X, interactions=interactions)
