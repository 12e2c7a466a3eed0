"""The served artifact's format, owned by serving (``talentml.tracking`` is a thin MLflow
flavor over it, as ``mlflow.sklearn`` is over scikit-learn).

A served model is a directory: the :class:`~talentml.serving.Scorer`'s files (booster as
UBJ, everything else JSON, never a pickle) and :data:`MANIFEST`, the SHA-256 of every file.
MLflow logs it as the pyfunc artifact :data:`ARTIFACT_KEY`; the run records the tree digest
in the tag :data:`DIGEST_TAG`, and :func:`~talentml.serving.load` refuses a directory whose
files no longer match (:class:`ModelIntegrityError`) or that holds a pickle
(:func:`find_pickles`).

Examples
--------
>>> import tempfile, pathlib
>>> from talentml.serving.artifact import MANIFEST, find_pickles, write_manifest
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "scorer.json").write_text("{}")
>>> len(write_manifest(root)), (root / MANIFEST).exists(), find_pickles(root)
(64, True, [])
"""

from __future__ import annotations

from ._integrity import (
    DIGEST_TAG,
    MANIFEST,
    MANIFEST_FORMAT,
    PICKLE_SUFFIXES,
    ModelIntegrityError,
    file_digests,
    find_pickles,
    tree_digest,
    verify_model_dir,
    write_manifest,
)
from ._load import ARTIFACT_KEY, quiet_mlflow_downloads, recorded_digest, scorer_dir

__all__ = [
    "ARTIFACT_KEY",
    "DIGEST_TAG",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "PICKLE_SUFFIXES",
    "ModelIntegrityError",
    "file_digests",
    "find_pickles",
    "quiet_mlflow_downloads",
    "recorded_digest",
    "scorer_dir",
    "tree_digest",
    "verify_model_dir",
    "write_manifest",
]
