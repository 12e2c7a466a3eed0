"""A griffe extension for the API pages: docstrings completed at import time.

The model classes share their XGBoost parameter docs through ``Class.__doc__ =
Class.__doc__.format(...)``; griffe reads the source, where the docstring still holds the
``{xgb_params}`` placeholder. This extension gives such classes their runtime docstring.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe


class RuntimeDocstrings(griffe.Extension):
    """Replace a class docstring that holds a ``{placeholder}`` line by the runtime one."""

    def on_class_instance(self, *, node: Any, cls: griffe.Class, **kwargs: Any) -> None:
        doc = cls.docstring
        if doc is None or "\n{" not in "\n" + "\n".join(
            line.strip() for line in doc.value.splitlines()
        ):
            return
        module = importlib.import_module(cls.module.path)
        runtime = inspect.getdoc(getattr(module, cls.name, None))
        if runtime and runtime != doc.value:
            doc.value = runtime
