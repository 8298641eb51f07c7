"""W3 TinyNet step and W4 LeNet-style step: conv, ReLU, max-pool, linear, softmax-CE, SGD.

The hand-written numpy baseline is written well, as issue #6 asks: im2col is one
strided copy, col2im loops over the kernel's offsets only, and 2x2 pooling is a
reshape. The first conv layer skips the input gradient, as any hand-written step would.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

import graphkit as gk
from benchmarks.harness import Result, check_same_step, time_variants, torch_or_none
from benchmarks.mlp_steps import softmax_with_loss

LR = 0.01


# ----- the hand-written numpy step ------------------------------------------------------
def im2col(x, k, pad):
    """(B, C, H, W) -> (B*OH*OW, C*k*k), stride 1."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    b, c, h, w = xp.shape
    oh, ow = h - k + 1, w - k + 1
    s = xp.strides
    view = as_strided(xp, (b, oh, ow, c, k, k), (s[0], s[2], s[3], s[1], s[2], s[3]))
    return view.reshape(b * oh * ow, c * k * k)


def col2im(cols, x_shape, k, pad):
    b, c, h, w = x_shape
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    cols = cols.reshape(b, oh, ow, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    out = np.zeros((b, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, i : i + oh, j : j + ow] += cols[:, :, i, j]
    return out[:, :, pad : pad + h, pad : pad + w]


def conv_forward(x, weight, bias, pad):
    b, _, h, w = x.shape
    oc, _, k, _ = weight.shape
    cols = im2col(x, k, pad)
    out = cols @ weight.reshape(oc, -1).T + bias
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    return out.reshape(b, oh, ow, oc).transpose(0, 3, 1, 2), cols


def conv_backward(dout, x_shape, weight, cols, pad, need_dx):
    oc, _, k, _ = weight.shape
    d2 = dout.transpose(0, 2, 3, 1).reshape(-1, oc)
    grad_w = (d2.T @ cols).reshape(weight.shape)
    grad_b = d2.sum(axis=0)
    dx = col2im(d2 @ weight.reshape(oc, -1), x_shape, k, pad) if need_dx else None
    return dx, grad_w, grad_b


def pool_forward(x):
    b, c, h, w = x.shape
    windows = x.reshape(b, c, h // 2, 2, w // 2, 2)
    out = windows.max(axis=(3, 5))
    return out, windows


def pool_backward(dout, windows, out):
    mask = windows == out[:, :, :, None, :, None]
    dx = mask * dout[:, :, :, None, :, None]
    b, c, oh, _, ow, _ = windows.shape
    return dx.reshape(b, c, oh * 2, ow * 2)


def numpy_cnn_step(x, t, params, pads) -> float:
    """conv-relu-pool twice, linear, softmax-CE; SGD in place. Returns the loss."""
    w1, b1, w2, b2, wf, bf = params
    c1, cols1 = conv_forward(x, w1, b1, pads[0])
    r1 = np.maximum(c1, 0)
    p1, win1 = pool_forward(r1)
    c2, cols2 = conv_forward(p1, w2, b2, pads[1])
    r2 = np.maximum(c2, 0)
    p2, win2 = pool_forward(r2)
    flat = p2.reshape(len(x), -1)
    loss, d = softmax_with_loss(flat @ wf + bf, t)
    grad_wf, grad_bf = flat.T @ d, d.sum(axis=0)
    d = (d @ wf.T).reshape(p2.shape)
    d = pool_backward(d, win2, p2) * (c2 > 0)
    d, grad_w2, grad_b2 = conv_backward(d, p1.shape, w2, cols2, pads[1], True)
    d = pool_backward(d, win1, p1) * (c1 > 0)
    _, grad_w1, grad_b1 = conv_backward(d, x.shape, w1, cols1, pads[0], False)
    for p, g in zip(params, (grad_w1, grad_b1, grad_w2, grad_b2, grad_wf, grad_bf)):
        p -= LR * g
    return float(loss)


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
    check_same_step(gk_step(), numpy_cnn_step(x, t, np_params, pads), gk_params, np_params,
                    x.dtype)
    variants = {"graphkit": gk_step, "numpy": lambda: numpy_cnn_step(x, t, np_params, pads)}
    torch = torch_or_none()
    if torch is not None:
        variants["torch"] = torch_cnn_step_fn(torch, x, t, arrays, pads)
    return Result(workload, description, "ms/step", time_variants(variants, repeats))


def lenet_setup(batch: int, dtype=np.float32):
    return cnn_setup(batch, (1, 28, 28), (16, 32), 5, (2, 2), 1568, dtype)


def w3(repeats: int) -> Result:
    setup = cnn_setup(64, (3, 8, 8), (6, 12), 3, (1, 1), 48, np.float64)
    return run_cnn("W3", "TinyNet step, batch 64, float64", setup, (1, 1), repeats)


def w4(repeats: int) -> Result:
    return run_cnn("W4", "LeNet-style step, (64,1,28,28), float32", lenet_setup(64), (2, 2),
                   max(5, repeats // 3))
