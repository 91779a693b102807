"""What a piece of code asks of PyTorch, counted: the operators it runs (on a GPU each launches a
kernel) and the tensor values the host reads (on a GPU each waits for the device's queue to
drain, so the host's launches stop overlapping the device's work). Tests of the code paths a GPU
takes bound these on the CPU, where CI runs."""

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode


class OperatorCalls(TorchDispatchMode):
    """Counts the tensor operators run inside it, and the medians among them."""

    def __init__(self):
        super().__init__()
        self.count = self.medians = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        self.medians += func._overloadpacket in (torch.ops.aten.nanmedian, torch.ops.aten.median)
        return func(*args, **(kwargs or {}))


class HostReads(TorchFunctionMode):
    """Counts the tensor values the host reads inside it (`bool`, `int`, `float`, `.item()`,
    `.tolist()`...), as Python calls them: a CPU tensor's `.tolist()` dispatches no operator."""

    READS = frozenset({"__bool__", "__int__", "__float__", "__index__", "item", "tolist", "numpy"})

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.count += getattr(func, "__name__", None) in self.READS
        return func(*args, **(kwargs or {}))
