"""A run's spec: overrides from flags and suite files, names and defaults resolved, every value
checked against its type, the combination checked against what the dataset and the person offer,
and the identity the run is filed under (DESIGN §5).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import torch
from pydantic import Field

from ..classifiers.base import Classifier
from ..core.effort import ADDED_ACTIONS, seconds_table
from ..core.explain import METHODS, CamSpec
from ..core.params import check_value
from ..core.registry import parameters_of
from ..core.storage import canonical_json, spec_hash
from ..registries import COMPONENT_KINDS, REGISTRIES
from ..types import HitlbenchError, Want

SPEC_KINDS = ("dataset", *COMPONENT_KINDS)
DEFAULT_COMPONENTS = {
    "sampler": "random",
    "detector": "none",
    "classifier": "small_cnn",
    "oracle": "perfect",
    "feedback": "labels",
}
DEFAULT_SETTINGS: dict[str, Any] = {
    "rounds": 10,
    "batch_size": 50,
    "seed": 0,
    "threads": 2,
    "device": "auto",
    "effort": {},
    "effort_budget_s": None,
    "targets": [0.7, 0.8, 0.9],
    "evaluation_cam": {
        "relu": True,
        "weights": "gradcam",
        "norm": "max",
        "method": "gradcam",
        "layer": None,
    },
    "first_batch": "sampler",
}
SPEC_KEYS = (*SPEC_KINDS, *DEFAULT_SETTINGS)
_Count = Annotated[int, Field(ge=1)]
# Each run setting's type and, in words, what it takes.
SETTING_TYPES: dict[str, tuple[Any, str]] = {
    "rounds": (_Count | Literal["all"] | None, "a positive integer or 'all'"),
    "batch_size": (_Count | Literal["all"] | None, "a positive integer or 'all'"),
    "seed": (Annotated[int, Field(ge=0)], "an integer >= 0"),
    "threads": (_Count, "an integer >= 1"),
    "device": (Literal["auto", "cpu", "cuda"], "auto, cpu or cuda"),
    "effort": (dict[str, Any] | None, "a mapping of actions to seconds"),
    "effort_budget_s": (
        Annotated[float, Field(gt=0)] | None,
        "a finite number of seconds > 0, or null",
    ),
    "targets": (list[Annotated[float, Field(gt=0, le=1)]], "a list of accuracies in (0, 1]"),
    "evaluation_cam": (
        dict[str, Any],
        "a mapping of method (gradcam/input_gradient), layer (null or a module path), relu "
        "(true/false), weights (gradcam/guided) and norm (max/minmax)",
    ),
    "first_batch": (Literal["sampler", "random"], "sampler or random"),
}
# Run settings added after records were published, with the value that reproduces the behaviour
# from before: left out of a run's identity while they hold it (docs/concepts.md, "Run identity").
# Keys added to `evaluation_cam` later are left out of it the same way first.
ADDED_CAM_KEYS: dict[str, Any] = {"method": "gradcam", "layer": None}
ADDED_SETTINGS: dict[str, Any] = {
    "evaluation_cam": {
        k: v for k, v in DEFAULT_SETTINGS["evaluation_cam"].items() if k not in ADDED_CAM_KEYS
    },
    "first_batch": "sampler",
}
ANNOTATION_TEXT = {
    Want.BOX: "true boxes",
    Want.MASK_SPURIOUS: "spurious-region masks",
    Want.MASK_OBJECT: "object masks",
}


# --- overrides ------------------------------------------------------------------------------


def apply_override(raw: dict[str, Any], key: str, value: Any) -> None:
    """Apply one override, from `--set KEY=VALUE` or a suite file's layers, to a raw spec.

    KEY is `kind` (VALUE: a name, or {name, params}), `kind.name`, `kind.param`,
    `kind.param.name` or `kind.param.inner` for a nested component (`Component.nested`, e.g.
    `classifier.backend.accuracy`), `effort` (a mapping), `effort.action`,
    `evaluation_cam.field`, or a run setting; kind is one of `SPEC_KINDS`.
    """
    kind, dot, param = key.partition(".")
    if kind in SPEC_KINDS:
        entry = raw.setdefault(kind, {"name": None, "params": {}})
        if not dot:
            name, params = _name_and_params(kind, value)
            entry["name"] = name if name is not None else entry["name"]
            entry["params"].update(copy.deepcopy(params))
        elif not param:
            raise HitlbenchError(f"{key!r}: name a parameter after '{kind}.'")
        elif param == "name":
            entry["name"] = _name(kind, value)
        elif "." in param:  # a nested component's name or parameter
            outer, _, inner = param.partition(".")
            given = entry["params"].get(outer)
            block = {"name": given} if isinstance(given, str) or given is None else dict(given)
            if inner == "name":
                block["name"] = value
            else:
                block["params"] = {**(block.get("params") or {}), inner: copy.deepcopy(value)}
            entry["params"][outer] = block
        else:
            entry["params"][param] = copy.deepcopy(value)
    elif kind == "effort":
        table = raw.setdefault("effort", {})
        if dot:
            table[param] = value
        elif isinstance(value, Mapping):
            table.update(value)
        else:
            raise HitlbenchError(f"effort: expected a mapping of actions to seconds, got {value!r}")
    elif kind == "evaluation_cam" and dot:
        raw.setdefault(kind, dict(DEFAULT_SETTINGS[kind]))[param] = value
    elif not dot and key in DEFAULT_SETTINGS:
        raw[key] = copy.deepcopy(value)
    else:
        raise HitlbenchError(
            f"unknown key {key!r}: use a component ({', '.join(SPEC_KINDS)}), kind.param, "
            f"effort.action or a run setting ({', '.join(DEFAULT_SETTINGS)})"
        )


def _name(kind: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise HitlbenchError(f"{kind}: the name must be a string, got {value!r}")
    return value


def _name_and_params(kind: str, given: Any) -> tuple[str | None, dict[str, Any]]:
    """(name, params) of `kind: name` or `kind: {name: ..., params: {...}}`."""
    if given is None or isinstance(given, str):
        return given, {}
    if not isinstance(given, Mapping):
        raise HitlbenchError(
            f"{kind}: expected a name or {{name: ..., params: {{...}}}}, got {given!r}"
        )
    unknown = set(given) - {"name", "params"}
    if unknown:
        raise HitlbenchError(f"{kind}: unknown keys {sorted(unknown)}; use name and params")
    params = given.get("params") or {}
    if not isinstance(params, Mapping):
        raise HitlbenchError(f"{kind}: params must map parameter names to values, got {params!r}")
    return _name(kind, given.get("name")), dict(params)


# --- resolution -----------------------------------------------------------------------------


def default_dataset(detector: str) -> str:
    """`fmnist`, or `fmnist_clutter` when the detector needs true boxes (DESIGN §4)."""
    return "fmnist_clutter" if REGISTRIES["detector"].get(detector).needs_boxes else "fmnist"


def _component(kind: str, given: Any, default: str) -> dict[str, Any]:
    """{name, params} with the name resolved and every parameter filled, nested components
    (`Component.nested`) resolved the same way; None name: `default`."""
    name, params = _name_and_params(kind, given)
    registry = REGISTRIES[kind]
    name = registry.canonical(name or default)
    cls = registry.get(name)
    for param, (inner_kind, inner_default) in cls.nested.items():
        try:
            params[param] = _component(inner_kind, params.get(param), inner_default)
        except HitlbenchError as exc:
            raise HitlbenchError(f"{kind} {name!r}, parameter {param}: {exc}") from exc
    registry.create(name, **params)  # checks names, types and values now, not half-way through
    full = parameters_of(cls)
    full.update(params)
    return {"name": name, "params": full}


def resolve_device(device: str) -> str:
    """`auto` becomes what this machine has; `cuda` stays `cuda` here too, so a suite's GPU cells
    keep their identity on a machine without one (they are refused when run, not when resolved)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def device_available(device: str) -> bool:
    """Whether this machine can run on `device` (a resolved one: cpu or cuda)."""
    return device != "cuda" or torch.cuda.is_available()


def resolve_spec(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Aliases resolved, defaults filled, values checked: the spec that identifies a run.

    Raises `HitlbenchError` (one line: what, the value, what was expected) for an unknown key or
    name, a value of the wrong type or range, or a combination that cannot run.
    """
    unknown = set(raw) - set(SPEC_KEYS)
    if unknown:
        raise HitlbenchError(f"unknown spec keys {sorted(unknown)}; known: {', '.join(SPEC_KEYS)}")
    spec: dict[str, Any] = {}
    for kind in COMPONENT_KINDS:
        spec[kind] = _component(kind, raw.get(kind), DEFAULT_COMPONENTS[kind])
    spec["dataset"] = _component(
        "dataset", raw.get("dataset"), default_dataset(spec["detector"]["name"])
    )
    settings = {**DEFAULT_SETTINGS, **{k: v for k, v in raw.items() if k in DEFAULT_SETTINGS}}
    for key, (hint, expected) in SETTING_TYPES.items():
        check_value(f"run setting {key}", settings[key], hint, expected)
    for key in ("rounds", "batch_size"):
        spec[key] = "all" if settings[key] is None else settings[key]
    spec["seed"] = settings["seed"]
    spec["threads"] = settings["threads"]
    spec["device"] = resolve_device(settings["device"])
    spec["effort"] = seconds_table(settings["effort"] or {})
    spec["effort_budget_s"] = settings["effort_budget_s"]
    spec["targets"] = sorted(float(t) for t in settings["targets"])
    cam_layer = REGISTRIES["classifier"].get(spec["classifier"]["name"]).cam_layer
    spec["evaluation_cam"] = resolve_evaluation_cam(settings["evaluation_cam"], cam_layer)
    spec["first_batch"] = settings["first_batch"]
    check_compatible(spec)
    return spec


def resolve_evaluation_cam(
    given: Mapping[str, Any], cam_layer: str | None = None
) -> dict[str, Any]:
    """The map that explanation metrics score, checked: {relu, weights, norm, method, layer},
    with `norm` max or minmax (dice thresholds a map in [0, 1]), `method` gradcam or
    input_gradient (`explain.METHODS`), and `layer` null or a dotted module path; a layer equal
    to the classifier's own `cam_layer` resolves to null (the same map, the same run id).
    Whether the network has the layer is checked once it is built (`Classifier.check_cam`)."""
    cam = {**DEFAULT_SETTINGS["evaluation_cam"], **given}
    unknown = set(cam) - set(DEFAULT_SETTINGS["evaluation_cam"])
    if unknown:
        raise HitlbenchError(
            f"evaluation_cam: unknown keys {sorted(unknown)}; known: "
            f"{', '.join(DEFAULT_SETTINGS['evaluation_cam'])}"
        )
    if cam["method"] not in METHODS:
        raise HitlbenchError(
            f"evaluation_cam.method {cam['method']!r} is unknown; use one of: {', '.join(METHODS)}"
        )
    if cam["layer"] is not None and (not isinstance(cam["layer"], str) or not cam["layer"]):
        raise HitlbenchError(
            f"evaluation_cam.layer must be null (the classifier's own cam_layer) or a dotted "
            f"module path such as 'features.act1', got {cam['layer']!r}"
        )
    if not isinstance(cam["relu"], bool) or cam["norm"] not in ("max", "minmax"):
        raise HitlbenchError(
            f"evaluation_cam: relu must be true or false and norm max or minmax, got {given!r}"
        )
    if cam["layer"] is not None and cam["layer"] == cam_layer:
        cam["layer"] = None
    try:
        CamSpec(**cam)
    except ValueError as exc:
        raise HitlbenchError(f"evaluation_cam: {exc}") from exc
    return cam


def instantiate(spec: Mapping[str, Any], kind: str) -> Any:
    """A fresh instance of the spec's `kind` component (dataset, sampler, ...)."""
    return REGISTRIES[kind].create(spec[kind]["name"], **copy.deepcopy(spec[kind]["params"]))


# --- combinations ---------------------------------------------------------------------------


def check_compatible(spec: Mapping[str, Any]) -> None:
    """Refuse combinations that cannot run, before any data is loaded or anything written."""
    fb = REGISTRIES["feedback"].get(spec["feedback"]["name"])
    clf = REGISTRIES["classifier"].get(spec["classifier"]["name"])
    if fb.needs_cam and clf.cam_layer is None:
        able = [
            n
            for n in REGISTRIES["classifier"].available()
            if REGISTRIES["classifier"].get(n).cam_layer
        ]
        raise HitlbenchError(
            f"feedback {spec['feedback']['name']!r} needs Grad-CAM, which classifier "
            f"{spec['classifier']['name']!r} does not support; use one of: {', '.join(able)}"
        )
    detector_cls = REGISTRIES["detector"].get(spec["detector"]["name"])
    sampler_cls = REGISTRIES["sampler"].get(spec["sampler"]["name"])
    if detector_cls.drawn_by_person and sampler_cls.uses_model:
        raise HitlbenchError(
            f"sampler {spec['sampler']['name']!r} ranks the whole pool on the classifier's view of "
            f"it, and with detector {spec['detector']['name']!r} that view is cropped by boxes "
            "the person has not drawn yet; use an order fixed a priori (random, kernel_herding)"
        )
    if clf.whole_images_only and spec["detector"]["name"] != "none":
        raise HitlbenchError(
            f"classifier {spec['classifier']['name']!r} answers from whole-image embeddings, so "
            f"detector {spec['detector']['name']!r} would crop for nothing; use --detector none"
        )
    classifier = instantiate(spec, "classifier")
    oracle_cls = REGISTRIES["oracle"].get(spec["oracle"]["name"])
    if oracle_cls.needs_ready_classifier and not classifier.ready:
        raise HitlbenchError(
            f"oracle {spec['oracle']['name']!r} takes the model's pre-labels from the first "
            f"round, but classifier {spec['classifier']['name']!r} proposes nothing before it is "
            "trained; use a classifier that is ready from the start (zero_shot)"
        )
    if type(classifier).check_classes is not Classifier.check_classes:  # it checks class names
        dataset = instantiate(spec, "dataset")
        names = dataset.task_class_names()
        if names is not None:
            classifier.check_classes(tuple(names), concept=dataset.task_concept())
    dataset = REGISTRIES["dataset"].get(spec["dataset"]["name"])
    check_annotations(
        spec["dataset"]["name"],
        dataset.offers,
        detector=instantiate(spec, "detector"),
        feedback=instantiate(spec, "feedback"),
        oracle=instantiate(spec, "oracle"),
    )


def check_annotations(
    dataset: str, offered: frozenset[Want] | None, *, detector: Any, feedback: Any, oracle: Any
) -> None:
    """Refuse a run whose detector or feedback will ask the person for an annotation that the
    dataset does not have (`offered`; None: not declared, checked once loaded) or that the
    oracle cannot give; the message names the component and what would work."""
    needs = [("detector", detector, w) for w in sorted(detector.requires())]
    needs += [("feedback", feedback, w) for w in sorted(feedback.requires())]
    for kind, component, want in needs:
        who, what = f"{kind} {component.registered_name!r}", ANNOTATION_TEXT.get(want, want.value)
        if offered is not None and want not in offered:
            having = _names("dataset", lambda cls, w=want: w in (cls.offers or ()))
            raise HitlbenchError(
                f"{who} needs {what}, which dataset {dataset!r} does not have; "
                f"datasets that have them: {', '.join(having) or 'none'}"
            )
        if want not in oracle.provides:
            able = _names("oracle", lambda cls, w=want: w in cls.provides)
            raise HitlbenchError(
                f"{who} needs {what} from the person, which oracle "
                f"{oracle.registered_name!r} cannot give; oracles that can: {', '.join(able)}"
            )


def _names(kind: str, keep: Any) -> list[str]:
    registry = REGISTRIES[kind]
    return [name for name in registry.available() if keep(registry.get(name))]


# --- identity -------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    return canonical_json(a) == canonical_json(b)


def identity(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a resolved spec that a run's id hashes: the spec without the parameters,
    effort actions and run settings added after records were published while they hold the value
    that reproduces the old behaviour (`Component.added_params`, `effort.ADDED_ACTIONS`,
    `ADDED_SETTINGS`, and within `evaluation_cam`, `ADDED_CAM_KEYS`)."""
    out = copy.deepcopy(dict(spec))
    for kind in SPEC_KINDS:
        _drop_added(kind, out[kind])
    for action, old in ADDED_ACTIONS.items():
        if action in out["effort"] and _same(out["effort"][action], old):
            del out["effort"][action]
    cam = out.get("evaluation_cam")
    if isinstance(cam, dict):
        for key, old in ADDED_CAM_KEYS.items():
            if key in cam and _same(cam[key], old):
                del cam[key]
    for key, old in ADDED_SETTINGS.items():
        if key in out and _same(out[key], old):
            del out[key]
    return out


def _drop_added(kind: str, block: dict[str, Any]) -> None:
    """Remove from a {name, params} block, and its nested blocks, the added parameters that hold
    their old value."""
    cls, params = REGISTRIES[kind].get(block["name"]), block["params"]
    added = {**cls.added_params, **{k: default for k, (_, default) in cls.shared.items()}}
    for param, old in added.items():
        if param in params and _same(params[param], old):
            del params[param]
    for param, (inner_kind, _) in cls.nested.items():
        if isinstance(params.get(param), dict):
            _drop_added(inner_kind, params[param])


def run_id(spec: Mapping[str, Any]) -> str:
    """A run's id: the hash of its resolved spec's `identity`."""
    return spec_hash(identity(spec))
