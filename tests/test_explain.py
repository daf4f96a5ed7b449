import pytest
import torch

from hitlbench.classifiers.small_cnn import SmallCNNNet
from hitlbench.core.explain import gradcam, gradcam_with_logits, normalize

LAYER = "features.act3"


@pytest.fixture
def net_and_batch():
    torch.manual_seed(0)
    net = SmallCNNNet(1, (28, 28), 10, 8, 16).eval()
    x = torch.randn(4, 1, 28, 28)
    target = torch.tensor([0, 3, 7, 9])
    return net, x, target


def test_gradcam_matches_captum(net_and_batch):
    captum_attr = pytest.importorskip("captum.attr")
    net, x, target = net_and_batch
    maps, logits = gradcam_with_logits(net, LAYER, x, target)
    attr = captum_attr.LayerGradCam(net, net.features.act3).attribute(
        x, target=target, relu_attributions=True
    )
    ref = captum_attr.LayerAttribution.interpolate(attr, (28, 28), interpolate_mode="bilinear")
    assert maps.shape == (4, 28, 28)
    assert ref.abs().max() > 0
    assert torch.allclose(maps, ref[:, 0], atol=1e-6 * ref.abs().max().item(), rtol=1e-5)
    assert torch.allclose(logits, net(x))
    # no upsampling: the [N, h, w] map of the 7x7 layer
    small = gradcam(net, LAYER, x, target, upsample=False)
    assert torch.allclose(small, attr[:, 0], atol=1e-6 * attr.abs().max().item(), rtol=1e-5)
    # the gradients came from autograd.grad: no parameter .grad was written
    assert all(p.grad is None for p in net.parameters())


def _loss(net, x, target, create_graph):
    # an RRR-GC-like masked squared penalty (Hagos et al. 2024, Eq. 2)
    mask = torch.zeros(1, 28, 28)
    mask[:, :14] = 1.0
    maps = gradcam(net, LAYER, x, target, create_graph=create_graph)
    return ((mask * normalize(maps, "sum")) ** 2).sum()


def test_gradcam_is_differentiable_through_channel_weights(net_and_batch):
    net, x, target = net_and_batch
    conv1, fc2 = net.features.conv1.weight, net.head.fc2.weight
    # head.fc2 reaches the map only through alpha = mean dY/dA (second-order path)
    g_conv1, g_fc2 = torch.autograd.grad(_loss(net, x, target, True), (conv1, fc2))
    assert g_conv1.abs().sum() > 0
    assert g_fc2.abs().sum() > 0
    # a detached Grad-CAM (alpha a constant) still reaches conv1 through A, but not fc2
    g_conv1_d, g_fc2_d = torch.autograd.grad(
        _loss(net, x, target, False), (conv1, fc2), allow_unused=True
    )
    assert g_conv1_d.abs().sum() > 0
    assert g_fc2_d is None or g_fc2_d.abs().sum() == 0
    # the head is ReLU/linear, so dY/dA depends only on head weights (ReLU' is piecewise
    # constant): alpha adds nothing to conv1's gradient, and fc1 too gets gradient only via alpha
    assert torch.allclose(g_conv1, g_conv1_d)
    fc1 = net.head.fc1.weight
    (g_fc1,) = torch.autograd.grad(_loss(net, x, target, True), fc1)
    (g_fc1_d,) = torch.autograd.grad(_loss(net, x, target, False), fc1, allow_unused=True)
    assert g_fc1.abs().sum() > 0
    assert g_fc1_d is None or g_fc1_d.abs().sum() == 0


def test_normalize_known_answers():
    m = torch.tensor([[[0.0, 1.0], [2.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]])
    out = normalize(m, "max")
    assert torch.allclose(out[0], torch.tensor([[0.0, 0.5], [1.0, 0.5]]))
    out = normalize(m, "sum")
    assert torch.allclose(out[0], torch.tensor([[0.0, 0.25], [0.5, 0.25]]))
    out = normalize(m, "softmax")
    e = torch.exp(torch.tensor([0.0, 1.0, 2.0, 1.0]))
    assert torch.allclose(out[0].flatten(), e / e.sum())
    assert torch.allclose(out[1], torch.full((2, 2), 0.25))
    for how in ("max", "sum"):
        out = normalize(m, how)
        assert torch.isfinite(out).all()
        assert torch.equal(out[1], torch.zeros(2, 2))
    with pytest.raises(ValueError):
        normalize(m, "l2")


def test_hook_is_removed_even_on_error(net_and_batch):
    net, x, target = net_and_batch
    layer = net.get_submodule(LAYER)
    gradcam(net, LAYER, x, target)
    assert len(layer._forward_hooks) == 0
    with pytest.raises((IndexError, RuntimeError)):
        gradcam(net, LAYER, x, torch.tensor([0, 1, 2, 10]))  # class 10 of 10
    assert len(layer._forward_hooks) == 0


def test_gradcam_works_under_no_grad_and_frozen_weights(net_and_batch):
    net, x, target = net_and_batch
    ref = gradcam(net, LAYER, x, target)
    for p in net.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        maps = gradcam(net, LAYER, x, target)
    assert torch.allclose(maps, ref)


def _two_channel_net():
    """A 'network' whose layer `act` outputs two fixed channels and whose class-0 logit is
    2·sum(channel 0) - sum(channel 1): dY/dA is +2 on channel 0 and -1 on channel 1."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.act = torch.nn.Identity()

        def forward(self, x):
            a = self.act(x)
            y0 = 2 * a[:, 0].sum((1, 2)) - a[:, 1].sum((1, 2))
            return torch.stack([y0, -y0], dim=1)

    return Net()


def test_variants_against_known_answers():
    net = _two_channel_net()
    a0 = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    a1 = torch.tensor([[0.0, 1.0], [0.0, -1.0]])
    x = torch.stack([a0, a1])[None]  # [1, 2, 2, 2]
    target = torch.tensor([0])
    # Grad-CAM: alpha = (2, -1), map = 2·a0 - a1
    signed = gradcam(net, "act", x, target, relu=False, upsample=False)
    assert torch.allclose(signed[0], 2 * a0 - a1)
    assert torch.allclose(gradcam(net, "act", x, target, upsample=False)[0], (2 * a0 - a1).clamp(0))
    # guided: only positive gradients at positive activations; channel 1's gradient is negative
    guided = gradcam(net, "act", x, target, relu=False, weights="guided", upsample=False)
    assert torch.allclose(guided[0], 2 * (a0 > 0).float().mean() * a0)
    # target None: the predicted class, 0 here (logits 2 and -2)
    predicted = gradcam(net, "act", x, None, relu=False, upsample=False)
    assert torch.allclose(predicted, signed)
    with pytest.raises(ValueError, match="weights"):
        gradcam(net, "act", x, target, weights="smooth")


def test_minmax_normalises_signed_maps_and_masks_follow_the_map():
    from hitlbench.core.explain import CamSpec, mask_like

    m = torch.tensor([[[-1.0, 0.0], [1.0, 3.0]], [[2.0, 2.0], [2.0, 2.0]]])
    out = normalize(m, "minmax")
    assert torch.allclose(out[0], torch.tensor([[0.0, 0.25], [0.5, 1.0]]))
    assert torch.equal(out[1], torch.zeros(2, 2))  # a flat map: zeros, finite
    mask = torch.zeros(1, 4, 4)
    mask[0, :2, :3] = 1.0
    small = mask_like(mask, torch.zeros(1, 2, 2))  # area shares of each 2x2 cell
    assert torch.allclose(small[0], torch.tensor([[1.0, 0.5], [0.0, 0.0]]))
    assert torch.equal(mask_like(mask, torch.zeros(1, 4, 4)), mask)  # same size: unchanged
    with pytest.raises(ValueError, match="norm"):
        CamSpec(norm="l2")


def test_input_gradient_matches_captum_saliency_of_the_log_probability():
    """captum's `Saliency` (abs=True) of log_softmax(net(x)) summed over channels is the
    input-gradient map of Ross et al. 2017."""
    from hitlbench.core.explain import input_gradient

    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(0)
    net = SmallCNNNet(3, (12, 12), 5, 4, 8).eval()  # three channels: the sum over them counts
    x = torch.randn(4, 3, 12, 12)
    target = torch.tensor([0, 2, 4, 1])
    maps = input_gradient(net, x, target)
    ref = captum_attr.Saliency(lambda inp: torch.log_softmax(net(inp), dim=1)).attribute(
        x.clone().requires_grad_(), target=target, abs=True
    )
    assert maps.shape == (4, 12, 12) and maps.dtype == torch.float32 and (maps >= 0).all()
    assert ref.abs().max() > 0
    assert torch.allclose(maps, ref.sum(dim=1), atol=1e-6 * ref.abs().max().item(), rtol=1e-5)
    # target None: the predicted class; frozen weights and no_grad change nothing
    predicted = net(x).argmax(dim=1)
    assert torch.allclose(input_gradient(net, x, None), input_gradient(net, x, predicted))
    for p in net.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        assert torch.allclose(input_gradient(net, x, target), maps)
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(ValueError, match="one target per image"):
        input_gradient(net, x, torch.tensor([0, 1]))


def test_input_gradient_by_hand():
    # log softmax of logits (w·x, 0): d/dx of class 0 is (1 - p0)·w, of class 1 is -p0·w
    w = torch.tensor([[[[1.0, -2.0]], [[0.5, 0.0]]]])  # [1, 2, 1, 2]

    class Linear(torch.nn.Module):
        def forward(self, x):
            y = (w * x).sum((1, 2, 3))
            return torch.stack([y, torch.zeros_like(y)], dim=1)

    from hitlbench.core.explain import input_gradient

    x = torch.tensor([[[[1.0, 1.0]], [[2.0, 0.0]]]])  # y = 1 - 2 + 1 = 0: p0 = 0.5
    got = input_gradient(Linear(), x, torch.tensor([0]))
    assert torch.allclose(got, 0.5 * w.abs().sum(dim=1))


def test_saliency_picks_the_map_its_spec_names(net_and_batch):
    from hitlbench.core.explain import CamSpec, input_gradient, map_layers, saliency

    net, x, target = net_and_batch
    default = saliency(net, x, target, CamSpec(), cam_layer=LAYER)
    assert torch.equal(default, gradcam(net, LAYER, x, target))
    first = saliency(net, x, target, CamSpec(layer="features.act1"), cam_layer=LAYER)
    assert torch.equal(first, gradcam(net, "features.act1", x, target))
    assert not torch.allclose(first, default)
    grads = saliency(net, x, target, CamSpec(method="input_gradient"), cam_layer=LAYER)
    assert torch.equal(grads, input_gradient(net, x, target))
    layers = map_layers(net, x[:1])
    assert layers[:3] == ["features.conv1", "features.act1", "features.pool1"]
    assert LAYER in layers and not any(name.startswith("head") for name in layers)
    assert all(len(m._forward_hooks) == 0 for m in net.modules())


def test_cam_spec_refuses_what_its_method_cannot_take():
    from hitlbench.core.explain import CamSpec

    with pytest.raises(ValueError, match="method must be one of gradcam, input_gradient"):
        CamSpec(method="lime")
    for bad in ({"layer": "features.act1"}, {"relu": False}, {"weights": "guided"}):
        with pytest.raises(ValueError, match="Grad-CAM's"):
            CamSpec(method="input_gradient", **bad)
    with pytest.raises(ValueError, match="layer"):
        CamSpec(layer="")
