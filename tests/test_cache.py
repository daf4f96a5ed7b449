import numpy as np

from hitlbench.core.cache import cached_arrays


def test_computed_once_per_key_and_recomputed_when_unreadable(monkeypatch, tmp_path):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"order": np.arange(5) * len(calls)}

    first = cached_arrays("order", {"seed": 1}, compute)
    again = cached_arrays("order", {"seed": 1}, compute)
    assert len(calls) == 1 and np.array_equal(first["order"], again["order"])
    cached_arrays("order", {"seed": 2}, compute)
    assert len(calls) == 2  # another key, another artefact
    for stored in (tmp_path / "order").glob("*.npz"):
        stored.write_bytes(b"garbage")
    assert np.array_equal(cached_arrays("order", {"seed": 1}, compute)["order"], np.arange(5) * 3)
    assert not list((tmp_path / "order").glob(".*.tmp"))
