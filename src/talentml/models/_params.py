"""Shared parameter documentation of the estimators (inserted into their docstrings)."""

from __future__ import annotations

XGB_PARAMS_DOC = """\
n_estimators : int, default 300
        Boosting rounds (trees). With ``early_stopping_rounds``, the maximum.
    learning_rate : float, default 0.05
        Shrinkage (XGBoost ``eta``).
    max_depth : int, default 4
        Maximum tree depth (0: unlimited, with ``grow_policy="lossguide"``).
    min_child_weight : float, default 5.0
        Minimum sum of hessians in a leaf.
    subsample : float, default 0.8
        Row fraction sampled per tree.
    colsample_bytree, colsample_bylevel, colsample_bynode : float, default 0.8, 1.0, 1.0
        Column fractions sampled per tree, level and node.
    reg_lambda : float, default 1.0
        L2 penalty on leaf weights.
    reg_alpha : float, default 0.0
        L1 penalty on leaf weights.
    gamma : float, default 0.0
        Minimum loss reduction to split.
    max_delta_step : float, default 0.0
        Maximum leaf output step (0: none).
    max_bin : int, default 256
        Histogram bins per numeric feature.
    max_leaves : int, default 0
        Maximum leaves per tree (0: no limit).
    grow_policy : {"depthwise", "lossguide"}, default "depthwise"
        Tree growth policy.
    max_cat_to_onehot : int, default 4
        Categorical features with fewer levels are split one-vs-rest; others by partition.
    max_cat_threshold : int, default 64
        Maximum categories considered per partition split.
    tree_method : {"hist", "approx"}, default "hist"
        XGBoost tree method (native categoricals need one of these).
    monotone_constraints : "auto", dict or None, default "auto"
        ``"auto"``: the model's documented map (see ``docs/models.md``), restricted to the
        numeric columns present; a dict ``{column: -1 | 0 | 1}`` replaces it; None: none.
        The fitted constraints are in ``monotone_constraints_``.
    interaction_constraints : list of list of str, optional
        XGBoost interaction constraints, by column name.
    early_stopping_rounds : int, optional
        Stop when the validation loss has not improved for this many rounds; the validation
        rows (``validation_fraction``, drawn by employee) are left out of training.
    validation_fraction : float, default 0.1
        Fraction of the training rows (employees) held out for early stopping.
    n_jobs : int, optional
        Threads (XGBoost ``nthread``); None: all cores, -1: all cores.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the booster and of the held-out splits.
    device : str, default "cpu"
        XGBoost device (``"cpu"``, ``"cuda"``).
    show_progress : bool, optional
        tqdm bar over boosting rounds (default: the talentml setting).
    xgb_params : dict, optional
        Any other XGBoost parameter, passed through (they win over the above)."""

#: The classifiers' version: ``n_estimators`` and ``max_depth`` adapt to the data by default.
CLASSIFIER_XGB_PARAMS_DOC = XGB_PARAMS_DOC.replace(
    """n_estimators : int, default 300
        Boosting rounds (trees). With ``early_stopping_rounds``, the maximum.
    learning_rate : float, default 0.05
        Shrinkage (XGBoost ``eta``).
    max_depth : int, default 4
        Maximum tree depth (0: unlimited, with ``grow_policy="lossguide"``).""",
    """n_estimators : int or "auto", default "auto"
        Boosting rounds (trees). ``"auto"``: chosen by early stopping (50 rounds of patience,
        at most 2,000) on a fifth of the employees held out, then the booster is refit on
        every training row with 1.1 times the rounds found. An integer: exactly that many
        (with ``early_stopping_rounds``, the maximum).
    learning_rate : float, default 0.05
        Shrinkage (XGBoost ``eta``).
    max_depth : int or "auto", default "auto"
        Maximum tree depth (0: unlimited, with ``grow_policy="lossguide"``). ``"auto"``: the
        depth of 1, 2, 4 or 6 with the lowest log loss on the held-out employees, or a
        shallower one within a standard error of it (of the row-by-row loss difference), so
        a small table of mostly main effects gets an additive model and a large one with
        interactions gets deep trees; the search runs on at most 100,000 rows and its
        figures are in ``complexity_``. Below 200 labelled rows: depth 2 and 100 rounds.""",
)

SHARED_ATTRIBUTES_DOC = """\
booster_ : xgboost.Booster
        The main booster (see ``margin_kind_``).
    feature_names_in_ : numpy.ndarray of str
        Model-input columns, in booster order (set when ``X`` is a DataFrame).
    n_features_in_ : int
        Number of model-input columns.
    feature_types_ : list of str
        XGBoost feature types (``"c"`` for categoricals).
    categories_ : dict
        Category levels of each categorical column, fixed at fit.
    id_columns_ : list of str
        Identifier and datetime columns dropped from ``X`` at fit.
    margin_kind_ : str
        What the booster margin means: ``"log-odds"``, ``"log-hazard"`` or ``"log-days"``.
    monotone_constraints_ : dict
        The monotone constraints applied, ``{column: sign}``.
    n_estimators_ : int
        Trees kept (fewer than ``n_estimators`` after early stopping).
    best_iteration_ : int or None
        Best round under early stopping."""
