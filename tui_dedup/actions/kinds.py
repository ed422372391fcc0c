"""The actions a plan can carry, by name, with what each does to a file.

Kept apart from plan.py so that argument parsers and dialogs can list them without importing
the code that carries them out (plan → fsops, paths, trash: ~10 ms of every CLI start).
"""

ACTIONS = {
    "move": "move to the quarantine folder",
    "trash": "send to the system trash",
    "hardlink": "replace with a hard link to the keeper",
    "symlink": "replace with a symbolic link to the keeper",
    "delete": "delete permanently",
}
