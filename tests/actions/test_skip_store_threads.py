"""SkipStore.add from several threads at once: the app remembers each skip in a worker thread,
so two quick skips (or a skip while another is written) must not tear or repeat a line."""

from __future__ import annotations

import json
import threading

from tui_dedup.actions.skips import SkipStore


def test_concurrent_adds_write_each_pair_once(tmp_path):
    path = tmp_path / "skips.jsonl"
    store = SkipStore(str(path))
    pairs = [(f"{k:02x}" * 8, f"{k + 1:02x}" * 8) for k in range(6)]
    start = threading.Barrier(12)

    def add(a: str, b: str) -> None:
        start.wait()
        store.add(a, b)

    threads = [threading.Thread(target=add, args=p) for p in pairs for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = path.read_text(encoding="ascii").splitlines()
    assert sorted(tuple(json.loads(line)) for line in lines) == sorted(pairs)
    assert len(SkipStore(str(path))) == len(pairs)
