import importlib.metadata

import pytest

from hitlbench.core.registry import Registry, UnknownComponentError
from hitlbench.samplers.base import Sampler


class Base:
    pass


@pytest.fixture
def reg():
    return Registry("widget", Base, group="hitlbench.test_widgets")


def test_register_aliases_list_and_origin(reg):
    @reg.register("alpha_one", "a1")
    class Alpha(Base):
        """First line.

        More."""

        def __init__(self, size: int = 3):
            self.size = size

    @reg.register("alpha_two")
    class Alpha2(Base):
        pass

    assert reg.get("a1") is Alpha
    assert reg.create("a1", size=5, ignored=None).size == 5
    assert reg.list("alpha*") == ["alpha_one", "alpha_two"]
    assert reg.list("*two") == ["alpha_two"]
    assert reg.aliases("alpha_one") == ["a1"]
    assert reg.describe("alpha_one") == "First line."
    assert reg.origin("alpha_one").startswith(f"{__file__}:")  # defined outside hitlbench


def test_duplicate_name_raises_value_error(reg):
    reg.register("x")(type("X", (Base,), {}))
    with pytest.raises(ValueError, match="already registered"):
        reg.register("x")(type("Y", (Base,), {}))
    with pytest.raises(ValueError, match="already registered"):
        reg.register("z", "x")(type("Z", (Base,), {}))


def test_wrong_base_raises_type_error(reg):
    with pytest.raises(TypeError, match="not a subclass of Base"):
        reg.register("bad")(type("Bad", (), {}))


def test_unknown_name_lists_what_exists_and_closest(reg):
    reg.register("kernel_herding")(type("K", (Base,), {}))
    reg.register("random")(type("R", (Base,), {}))
    with pytest.raises(UnknownComponentError) as info:
        reg.get("kernel_herdin")
    message = str(info.value)
    assert "Available: kernel_herding, random" in message
    assert "Did you mean kernel_herding" in message
    assert isinstance(info.value, KeyError)


def test_unknown_parameter_is_refused_with_what_is_accepted(reg):
    @reg.register("p")
    class P(Base):
        def __init__(self, gamma: float = 1.0):
            self.gamma = gamma

    with pytest.raises(Exception, match="accepts: gamma"):
        reg.create("p", gama=2)


def _fake_entry_points(*eps):
    def entry_points(group=None):
        return [ep for ep in eps if ep.group == group]

    return entry_points


def test_plugins_load_lazily_and_failures_do_not_break_the_rest(monkeypatch):
    good = importlib.metadata.EntryPoint(
        "plugged", "hitlbench.samplers.random_order:RandomSampler", "hitlbench.test_samplers"
    )
    broken = importlib.metadata.EntryPoint(
        "broken", "no_such_module_xyz:Thing", "hitlbench.test_samplers"
    )
    monkeypatch.setattr(importlib.metadata, "entry_points", _fake_entry_points(good, broken))
    reg = Registry("sampler", Sampler, group="hitlbench.test_samplers")
    assert reg.list() == ["broken", "plugged"]  # names are known without importing anything
    assert reg.get("plugged").__name__ == "RandomSampler"
    with pytest.warns(RuntimeWarning, match="broken"):
        assert "broken" not in reg
    assert [f.name for f in reg.failures] == ["broken"]
    assert reg.list() == ["plugged"]


def test_disable_switch_turns_discovery_off(monkeypatch):
    good = importlib.metadata.EntryPoint(
        "plugged", "hitlbench.samplers.random_order:RandomSampler", "hitlbench.test_samplers"
    )
    monkeypatch.setattr(importlib.metadata, "entry_points", _fake_entry_points(good))
    monkeypatch.setenv("HITLBENCH_DISABLE_PLUGINS", "1")
    assert Registry("sampler", Sampler, group="hitlbench.test_samplers").list() == []
