"""The PyTorch "Neural Transfer Using PyTorch" tutorial's method, written out for the benchmark.

Faithful to the tutorial (pytorch/tutorials, advanced_source/neural_style_tutorial.py):
VGG19 `features` in eval mode, an ImageNet Normalization module first, ReLUs made
out-of-place, a ContentLoss after conv_4 and StyleLosses after conv_1..conv_5 (Gram
matrices divided by a*b*c*d, MSE), the model cut after the last loss, L-BFGS on the
input image with default settings (lr 1, max_iter 20), `while run[0] <= num_steps`
with num_steps=300, the input clamped to [0, 1] in place inside the closure,
style_weight=1e6, content_weight=1, the input a clone of the content image.

Two things differ, both for measurement only: the VGG19 weights are passed in
(random-initialised ones here, since pretrained weights cannot be downloaded on these
machines), and every closure call records (seconds since start, loss) instead of
printing every 50 runs.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn, optim


class ContentLoss(nn.Module):
    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.target = target.detach()  # a stated value, not a variable: no gradient flows into it

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input: torch.Tensor) -> torch.Tensor:
    a, b, c, d = input.size()  # a=batch size(=1), b=number of feature maps, (c,d)=dimensions of a f. map
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature: torch.Tensor) -> None:
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        G = gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


class Normalization(nn.Module):
    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return (img - self.mean) / self.std


content_layers_default = ["conv_4"]
style_layers_default = ["conv_1", "conv_2", "conv_3", "conv_4", "conv_5"]
cnn_normalization_mean = [0.485, 0.456, 0.406]
cnn_normalization_std = [0.229, 0.224, 0.225]


def get_style_model_and_losses(
    cnn, normalization_mean, normalization_std, style_img, content_img,
    content_layers=content_layers_default, style_layers=style_layers_default,
):  # fmt: skip
    normalization = Normalization(normalization_mean, normalization_std)
    content_losses = []
    style_losses = []
    model = nn.Sequential(normalization)
    i = 0  # increment every time we see a conv
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)  # the in-place version doesn't play well with the losses inserted
        elif isinstance(layer, nn.MaxPool2d):
            name = f"pool_{i}"
        elif isinstance(layer, nn.BatchNorm2d):
            name = f"bn_{i}"
        else:
            raise RuntimeError(f"Unrecognized layer: {layer.__class__.__name__}")
        model.add_module(name, layer)
        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module(f"content_loss_{i}", content_loss)
            content_losses.append(content_loss)
        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module(f"style_loss_{i}", style_loss)
            style_losses.append(style_loss)
    for i in range(len(model) - 1, -1, -1):  # trim off the layers after the last content and style losses
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):  # noqa: SIM101 (as written)
            break
    model = model[: (i + 1)]
    return model, style_losses, content_losses


def get_input_optimizer(input_img: torch.Tensor) -> optim.Optimizer:
    return optim.LBFGS([input_img])  # this line shows that input is a parameter that requires a gradient


def run_style_transfer(
    cnn, normalization_mean, normalization_std, content_img, style_img, input_img,
    num_steps=300, style_weight=1000000, content_weight=1, record=None,
):  # fmt: skip
    """The tutorial's function; `record`, if given, receives (seconds, loss) at every closure call."""
    started = time.perf_counter()
    model, style_losses, content_losses = get_style_model_and_losses(
        cnn, normalization_mean, normalization_std, style_img, content_img
    )
    input_img.requires_grad_(True)  # we want to optimize the input and not the model parameters
    model.eval()
    model.requires_grad_(False)
    optimizer = get_input_optimizer(input_img)
    run = [0]
    while run[0] <= num_steps:

        def closure():
            with torch.no_grad():  # correct the values of updated input image
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0
            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss
            style_score *= style_weight
            content_score *= content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            if record is not None:
                record.append((time.perf_counter() - started, loss.item()))
            return style_score + content_score

        optimizer.step(closure)
    with torch.no_grad():  # a last correction...
        input_img.clamp_(0, 1)
    return input_img
