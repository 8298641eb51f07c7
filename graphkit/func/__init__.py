"""Function transforms, as ``torch.func``: derivatives of functions rather than of tensors.

Each takes a function of Tensors and returns a function (or its value). The inputs may
be Tensors, arrays or numbers; the results are Tensors. They compose: ``jacfwd(jacrev(f))``,
``grad(grad(f))``, ``jvp(grad(f), ...)``.

* reverse mode: ``vjp``, ``grad``, ``grad_and_value``, ``jacrev`` (one vjp per output element);
* forward mode: ``jvp``, ``jacfwd`` (one jvp per input element);
* second order: ``hessian`` (forward over reverse), ``hvp`` (without forming the Hessian).
"""

from graphkit.func.forward_mode import jacfwd, jvp
from graphkit.func.reverse_mode import grad, grad_and_value, jacrev, vjp
from graphkit.func.second_order import hessian, hvp

__all__ = ["grad", "grad_and_value", "hessian", "hvp", "jacfwd", "jacrev", "jvp", "vjp"]
