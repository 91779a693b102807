"""A stand-in `hou` module: ROP nodes with parms, Houdini's variable expansion and a render loop.

Rendering a ROP writes real EXR frames (the tests' tiny sequence) to its expanded output image,
running the ROP's Python per-frame and post-render scripts the way Houdini does (`hou.pwd()` is
the ROP while they run).
"""

from __future__ import annotations

import re
import types
from pathlib import Path

from exr_sequences import write_sequence

STATE: dict = {}


def reset(variables: dict[str, str], frame: float = 1) -> None:
    STATE.clear()
    STATE.update(variables=dict(variables), frame=frame, selected=[], pwd=None, messages=[],
                 progress=[])


class OperationFailed(Exception):
    pass


class OperationInterrupted(Exception):
    pass


class Parm:
    def __init__(self, node: RopNode, name: str, value):
        self.node, self._name, self._value = node, name, value

    def name(self) -> str:
        return self._name

    def eval(self):
        return expand(self._value, STATE["frame"]) if isinstance(self._value, str) else self._value

    def unexpandedString(self) -> str:
        return self._value

    def set(self, value) -> None:
        self._value = value


class ParmTuple:
    def __init__(self, values: tuple):
        self.values = values

    def eval(self) -> tuple:
        return self.values


class RopNode:
    """A ROP of type `type_name` whose output image parm is `output_parm`."""

    def __init__(self, path: str, type_name: str, output_parm: str | None, picture: str,
                 frame_range: tuple[float, float, float] = (1001, 1005, 1), trange: int = 1,
                 pan: tuple[float, str] | None = None):
        self._path, self._type = path, type_name
        self._parms = {"trange": Parm(self, "trange", trange)}
        if output_parm:
            self._parms[output_parm] = Parm(self, output_parm, picture)
        for slot in ("prerender", "preframe", "postframe", "postrender"):
            self._parms[slot] = Parm(self, slot, "")
            self._parms[f"l{slot}"] = Parm(self, f"l{slot}", "hscript")
            self._parms[f"t{slot}"] = Parm(self, f"t{slot}", False)
        self.output_parm, self.range = output_parm, frame_range
        self.pan = pan  # (px a frame, motion vector convention): frames of a real pan, else still ones

    def path(self) -> str:
        return self._path

    def name(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    def type(self):
        return types.SimpleNamespace(name=lambda: self._type)

    def parm(self, name: str) -> Parm | None:
        return self._parms.get(name)

    def parmTuple(self, name: str) -> ParmTuple | None:
        return ParmTuple(self.range) if name == "f" else None

    def evalParm(self, name: str):
        return self._parms[name].eval()

    def frames(self) -> list[int]:
        if self._parms["trange"].eval() == 0:
            return [int(STATE["frame"])]
        start, end, step = (int(v) for v in self.range)
        return list(range(start, end + 1, step))

    def render(self) -> None:
        """Write each frame's EXR to the expanded output image, then run the scripts as Houdini does."""
        for frame in self.frames():
            STATE["frame"] = frame
            path = Path(expand(self._parms[self.output_parm].unexpandedString(), frame))
            name = path.name.removesuffix(".exr").removesuffix(f".{frame:04d}")
            if self.pan:
                write_sequence(path.parent, frames=[frame], name=name, seed=frame, motion=self.pan[0],
                               convention=self.pan[1], start=frame - int(self.range[0]))
            else:
                write_sequence(path.parent, frames=[frame], name=name, seed=frame)
            self._run_script("postframe")
        self._run_script("postrender")

    def _run_script(self, slot: str) -> None:
        if not (self._parms[f"t{slot}"].eval() and self._parms[slot].eval()):
            return
        assert self._parms[f"l{slot}"].eval() == "python", "our hooks are Python scripts"
        STATE["pwd"] = self
        try:
            exec(self._parms[slot].unexpandedString(), {"hou": _module()})
        finally:
            STATE["pwd"] = None


def _module():
    import sys

    return sys.modules["hou"]


def expand(text: str, frame: float) -> str:
    """Houdini's expansion of $VAR, ${VAR}, $F, $F4, ${F4} at `frame` (unknown variables stay)."""
    def frame_token(match: re.Match) -> str:
        return f"{int(frame):0{int(match.group(1) or 1)}d}"

    text = re.sub(r"\$\{F(\d*)\}", frame_token, text)
    text = re.sub(r"\$F(\d*)(?![A-Za-z_])", frame_token, text)
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                  lambda m: STATE["variables"].get(m.group(1), m.group(0)), text)


text = types.SimpleNamespace(expandStringAtFrame=expand)


def frame() -> float:
    return STATE["frame"]


def pwd():
    return STATE["pwd"]


def selectedNodes() -> list:
    return list(STATE["selected"])


severityType = types.SimpleNamespace(Message="Message", Warning="Warning", Error="Error")


def isUIAvailable() -> bool:
    return STATE.get("ui", True)


def _display(message: str, severity: str = "Message", **kwargs) -> int:
    STATE["messages"].append((severity, message))
    return 0


ui = types.SimpleNamespace(displayMessage=_display)


class InterruptableOperation:
    """Records progress; raises OperationInterrupted once STATE['interrupt_after'] updates were made."""

    def __init__(self, operation_name: str, long_operation_name: str | None = None,
                 open_interrupt_dialog: bool = False):
        self.name = long_operation_name or operation_name

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def updateLongProgress(self, fraction: float = -1.0, long_op_status: str | None = None) -> None:
        STATE["progress"].append((fraction, long_op_status))
        limit = STATE.get("interrupt_after")
        if limit is not None and len(STATE["progress"]) >= limit:
            raise OperationInterrupted("interrupted by the user")
