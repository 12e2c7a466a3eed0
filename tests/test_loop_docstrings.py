"""Every public name of ``talentml.loop`` has a numpydoc docstring with a runnable example.

The same checks as ``tests/test_docstrings.py`` (which does not list ``talentml.loop`` yet);
the examples themselves run as doctests (``pytest --doctest-modules src/talentml``).
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from numpydoc.validate import validate

import talentml.loop

ENFORCED = {"GL08", "EX01", "PR02", "PR06", "SS03"}


def _public() -> list[str]:
    names = []
    for attr in talentml.loop.__all__:
        obj = getattr(talentml.loop, attr)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            names.append(f"{obj.__module__}.{obj.__qualname__}")
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                for name, member in vars(obj).items():
                    if name.startswith("_") or not (
                        inspect.isfunction(member) or isinstance(member, classmethod)
                    ):
                        continue
                    names.append(f"{obj.__module__}.{obj.__qualname__}.{name}")
    return sorted(set(names))


def test_every_public_name_is_exported_once() -> None:
    assert len(talentml.loop.__all__) == len(set(talentml.loop.__all__))
    for name in talentml.loop.__all__:
        assert hasattr(talentml.loop, name)


def _resolve(qualname: str) -> object:
    parts = qualname.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise LookupError(qualname)


@pytest.mark.parametrize("qualname", _public())
def test_public_docstring(qualname: str) -> None:
    result = validate(qualname)
    errors = [(code, msg) for code, msg in result["errors"] if code in ENFORCED]
    obj = _resolve(qualname)
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        errors = [e for e in errors if e[0] != "EX01"]
    assert not errors, f"{qualname}: {errors}"
