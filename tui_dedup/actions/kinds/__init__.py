"""The kinds of action a plan can carry: one module each, registered here by name.

A kind says how a marked file is planned (which copy must stay, whether sidecars follow it),
what is checked before acting on it, how it is carried out (the journaled operations it
writes), how each of those operations is undone, and how a step reads in a plan. Adding a
kind is one module in this folder plus its line below (and a key or option in a front end).

The names and descriptions are here without importing the kinds themselves, so argument
parsers and dialogs can list them at no import cost.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Kind

#: name → (module in this package, class, what it does to a file)
_KINDS: dict[str, tuple[str, str, str]] = {
    "move": ("move", "Move", "move to the quarantine folder"),
    "trash": ("trash", "Trash", "send to the system trash"),
    "hardlink": ("link", "HardLink", "replace with a hard link to the keeper"),
    "symlink": ("link", "SymLink", "replace with a symbolic link to the keeper"),
    "delete": ("delete", "Delete", "delete permanently"),
}
ACTIONS = {name: text for name, (_m, _c, text) in _KINDS.items()}


def kind(name: str) -> Kind:
    """The kind called ``name`` (KeyError for an unknown one)."""
    module, cls, _text = _KINDS[name]
    return getattr(import_module(f".{module}", __name__), cls)()


def for_operation(op_kind: str) -> Kind | None:
    """The kind whose journal operations are called ``op_kind`` (None: unknown)."""
    for name in _KINDS:
        k = kind(name)
        if op_kind in k.op_kinds:
            return k
    return None
