"""W3 TinyNet step and W4 LeNet-style step: conv, ReLU, max-pool, linear, softmax-CE, SGD.

The "numpy" variant is the tuned hand-written step of ``benchmarks.tuned_numpy``
(batch-last activations, every buffer allocated once, one GEMM per direction), which
replaced a simpler one (batch-first, fresh arrays every step) in issue #19. Like any
hand-written step it skips the first layer's input gradient.
"""

from __future__ import annotations

import numpy as np

import graphkit as gk
from benchmarks.harness import Result, check_same_step, time_variants, torch_or_none
from benchmarks.tuned_numpy import TunedCNN

LR = 0.01
TINYNET_PADS = (1, 1)


# ----- graphkit and torch ---------------------------------------------------------------
def graphkit_cnn_step_fn(x, t, arrays, pads):
    params = [gk.Tensor(a.copy(), requires_grad=True) for a in arrays]
    optimizer = gk.optim.SGD(params, lr=LR)
    x_t = gk.Tensor(x)
    F = gk.F

    def step() -> float:
        w1, b1, w2, b2, wf, bf = params
        h = F.max_pool2d(F.relu(F.conv2d(x_t, w1, b1, pad=pads[0])), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, pad=pads[1])), 2)
        loss = F.softmax_cross_entropy(F.linear(h.reshape(len(x), -1), wf, bf), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, params


def torch_cnn_step_fn(torch, x, t, arrays, pads):
    F = torch.nn.functional
    params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    optimizer = torch.optim.SGD(params, lr=LR)
    x_t, t_t = torch.from_numpy(x), torch.from_numpy(t)

    def step() -> float:
        w1, b1, w2, b2, wf, bf = params
        h = F.max_pool2d(F.relu(F.conv2d(x_t, w1, b1, padding=pads[0])), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=pads[1])), 2)
        loss = F.cross_entropy(h.reshape(len(x), -1) @ wf + bf, t_t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def cnn_setup(batch, in_shape, channels, kernel, pads, fc_in, dtype, seed=0):
    """Random data and He-initialised weights for conv-conv-linear on ``in_shape``."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, *in_shape)).astype(dtype)
    t = rng.integers(0, 10, batch)
    c0, c1, c2 = in_shape[0], *channels

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(dtype)

    arrays = [he((c1, c0, kernel, kernel), c0 * kernel**2), np.zeros(c1, dtype),
              he((c2, c1, kernel, kernel), c1 * kernel**2), np.zeros(c2, dtype),
              he((fc_in, 10), fc_in), np.zeros(10, dtype)]
    return x, t, arrays


def run_cnn(workload, description, setup, pads, repeats) -> Result:
    x, t, arrays = setup
    gk_step, gk_params = graphkit_cnn_step_fn(x, t, arrays, pads)
    np_params = [a.copy() for a in arrays]
    np_step = TunedCNN(x, t, np_params, LR, pads).step
    check_same_step(gk_step(), np_step(), gk_params, np_params, x.dtype)
    variants = {"graphkit": gk_step, "numpy": np_step}
    torch = torch_or_none()
    if torch is not None:
        variants["torch"] = torch_cnn_step_fn(torch, x, t, arrays, pads)
    return Result(workload, description, "ms/step", time_variants(variants, repeats))


def lenet_setup(batch: int, dtype=np.float32):
    return cnn_setup(batch, (1, 28, 28), (16, 32), 5, (2, 2), 1568, dtype)


def tinynet_setup(batch: int, dtype=np.float64):
    return cnn_setup(batch, (3, 8, 8), (6, 12), 3, TINYNET_PADS, 48, dtype)


def w3(repeats: int) -> Result:
    return run_cnn("W3", "TinyNet step, batch 64, float64", tinynet_setup(64), TINYNET_PADS,
                   repeats)


def w4(repeats: int) -> Result:
    return run_cnn("W4", "LeNet-style step, (64,1,28,28), float32", lenet_setup(64), (2, 2),
                   max(5, repeats // 3))
