"""Integrity of a saved model: file digests recorded when it is written, checked when it loads.

:meth:`talentml.serving.Scorer.save` writes ``manifest.json``: the SHA-256 of every file of
the scorer directory and one digest of them all (``sha256``). When a model is logged to
MLflow (:func:`talentml.tracking.log_model`) that digest is also recorded *outside* the
artifact, as the logged model's tag ``talentml.artifact_sha256``, and in the ``MLmodel``
metadata. Loading (:func:`talentml.serving.load`, the pyfunc behind ``mlflow models serve``)
refuses, with :class:`ModelIntegrityError` naming the file:

* a pickle anywhere in the model (a ``.pkl``/``.pickle``/``.joblib``/``.cloudpickle``/
  ``.dill`` file, or any file that starts like a pickle): talentml models are UBJ and JSON;
* a file whose digest differs from the manifest, a file missing, a file not in it;
* a manifest whose digest differs from the one recorded in the tracking store (the manifest
  itself was rewritten).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import orjson

from ..exceptions import TalentMLError

__all__ = ["DIGEST_TAG", "MANIFEST", "ModelIntegrityError", "verify_model_dir", "write_manifest"]

logger = logging.getLogger(__name__)

#: The manifest file of a scorer directory.
MANIFEST = "manifest.json"
#: The tag (logged model) and MLmodel metadata key holding the digest recorded at logging.
DIGEST_TAG = "talentml.artifact_sha256"
MANIFEST_FORMAT = "talentml.manifest/1"
PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib", ".cloudpickle", ".dill"})
_FIX = (
    "Do not serve this copy: log the model again from its training run (talentml.tracking."
    "train or log_model), or restore the artifact from the tracking store."
)


class ModelIntegrityError(TalentMLError, ValueError):
    """A model artifact that does not match what was recorded when it was logged."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digests(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of the files under ``root`` (the manifest left out)."""
    return {
        p.relative_to(root).as_posix(): _sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() != MANIFEST
    }


def tree_digest(files: dict[str, str]) -> str:
    """One SHA-256 of a ``{path: sha256}`` mapping (sorted paths)."""
    return hashlib.sha256(orjson.dumps(files, option=orjson.OPT_SORT_KEYS)).hexdigest()


def write_manifest(root: str | Path) -> str:
    """Write ``manifest.json`` of a scorer directory; returns its digest."""
    root = Path(root)
    files = file_digests(root)
    digest = tree_digest(files)
    doc = {"format": MANIFEST_FORMAT, "sha256": digest, "files": files}
    (root / MANIFEST).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return digest


def is_pickle(path: Path) -> bool:
    """Whether a file is (or is named like) a pickle."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError:
        return False
    # protocol 2+ pickles start with PROTO (0x80) and the protocol number
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def find_pickles(root: str | Path) -> list[str]:
    """Relative paths of pickle files under ``root``."""
    root = Path(root)
    return [
        p.relative_to(root).as_posix()
        for p in sorted(root.rglob("*"))
        if p.is_file() and is_pickle(p)
    ]


def verify_model_dir(
    root: str | Path, *, expected: str | None = None, what: str = ""
) -> str | None:
    """Check a scorer directory against its manifest (and ``expected``, the digest recorded
    in the tracking store); returns the digest, or None for a directory without a manifest.

    Raises
    ------
    ModelIntegrityError
        A pickle, a changed, missing or extra file, or a manifest that is not the recorded one.
    """
    root = Path(root)
    where = what or str(root)
    pickles = find_pickles(root)
    if pickles:
        raise ModelIntegrityError(
            f"{where}: refused: the model holds pickle file(s) {pickles[:10]}; talentml models "
            f"are UBJ and JSON only, so a pickle was slipped in. {_FIX}"
        )
    path = root / MANIFEST
    if not path.is_file():
        if expected is not None:
            raise ModelIntegrityError(
                f"{where}: refused: {MANIFEST} is missing, but the model was logged with digest "
                f"{expected[:12]}... {_FIX}"
            )
        logger.warning(
            "%s: no %s (saved by an older talentml): the files cannot be checked", where, MANIFEST
        )
        return None
    try:
        doc = orjson.loads(path.read_bytes())
        recorded = {str(k): str(v) for k, v in doc["files"].items()}
        digest = str(doc["sha256"])
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
        raise ModelIntegrityError(
            f"{where}: refused: {MANIFEST} is unreadable ({err}). {_FIX}"
        ) from err
    actual = file_digests(root)
    changed = sorted(k for k in recorded.keys() & actual.keys() if recorded[k] != actual[k])
    missing = sorted(recorded.keys() - actual.keys())
    extra = sorted(actual.keys() - recorded.keys())
    if changed or missing or extra:
        parts = []
        if changed:
            parts.append(f"changed since it was written: {changed[:10]}")
        if missing:
            parts.append(f"missing: {missing[:10]}")
        if extra:
            parts.append(f"not part of the model: {extra[:10]}")
        raise ModelIntegrityError(
            f"{where}: refused: file digests do not match {MANIFEST} ({'; '.join(parts)}). {_FIX}"
        )
    if tree_digest(recorded) != digest:
        raise ModelIntegrityError(
            f"{where}: refused: {MANIFEST} does not match its own digest. {_FIX}"
        )
    if expected is not None and expected != digest:
        raise ModelIntegrityError(
            f"{where}: refused: the model's files (digest {digest[:12]}...) are not the ones "
            f"recorded when it was logged ({DIGEST_TAG} = {expected[:12]}...). {_FIX}"
        )
    return digest
