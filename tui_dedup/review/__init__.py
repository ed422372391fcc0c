"""The review layer: one pipeline and one session under both front ends.

Data flows one way: ``engine`` (files → features → pairs) → ``actions`` (the only code that
changes a user's files) → ``review`` (this package: scan → match → hide skipped → group, the
decisions a person makes, exports) → the front ends ``cli`` and ``tui``, which only parse,
print, lay out and bind keys. Nothing here imports textual or rich (a test checks it), so
everything a person can decide is a plain method, testable without a screen.

- :mod:`.pipeline` — scan, match, hide skipped, group; progress callbacks, a stop flag, and
  the feature cache's warnings for the front end to show.
- :mod:`.session` — what a review works on: current method and threshold, pairs and groups,
  files hidden by skips and by batches; the plan for marked files, the stack of batches undo
  takes back, the state saved between runs, what an export shows.
- :mod:`.decisions` — auto-mark, keeper-rule order, the groups a plan is checked against, the
  plan for marked rows.
- :mod:`.marks` — the one timeline ``u`` undoes (mark changes, skips, file batches) and the
  bulk mark operations (invert, mark by folder or pattern) that never empty a group.
- :mod:`.keepers` — the one registry of keeper rules the CLI and the app read.
- :mod:`.settings` — what one run was asked to do.
- :mod:`.result`, :mod:`.export` (:mod:`.export_json`, :mod:`.export_rows`), :mod:`.export_file` —
  what an export shows, as JSON / CSV / text, written whole.
"""
