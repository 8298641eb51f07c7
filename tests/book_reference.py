"""The book's loop-based im2col: a plain-NumPy reference the tests compare graphkit with."""

import numpy as np


def im2col(x, kh, kw, stride, pad):
    """Every kh x kw window of x (B, C, H, W) as a row: (B*OH*OW, C*kh*kw), rows ordered
    (b, oh, ow), columns (c, kh, kw). ``stride`` and ``pad`` are ints or (h, w) pairs."""
    (sh, sw), (ph, pw) = np.broadcast_to(stride, 2), np.broadcast_to(pad, 2)
    B, C, H, W = x.shape
    out_h, out_w = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    img = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    col = np.zeros((B, C, kh, kw, out_h, out_w))
    for y in range(kh):
        for z in range(kw):
            col[:, :, y, z] = img[:, :, y : y + sh * out_h : sh, z : z + sw * out_w : sw]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(B * out_h * out_w, -1)
