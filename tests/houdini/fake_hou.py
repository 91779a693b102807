"""A stand-in `hou` module: nodes with parms, Houdini's variable expansion and a render loop.

Rendering a ROP writes real EXR frames (the tests' tiny sequence) to its evaluated output image,
running the ROP's Python pre-render, pre-frame, post-frame and post-render scripts the way Houdini
does (`hou.pwd()` is the ROP and `hou.frame()` the frame being rendered while they run). Only
what real Houdini does is modelled, as its documentation describes it:

- `RopNode.render(frame_range=(start, end[, inc]))` renders those frames whatever the ROP's own
  Start/End/Inc parms say (a farm task rendering one chunk of the range does this);
- a string parm holds either text (which may hold `$VAR`s and backtick HScript expressions,
  expanded when evaluated) or an expression set with `setExpression` (a keyframe): then
  `unexpandedString()` raises OperationFailed, `expression()` returns it (and raises
  OperationFailed when there is none), `getReferencedParm()` returns the parm a `chs("path")`
  expression references (itself otherwise) and `evalAsStringAtFrame(f)` evaluates it at frame f,
  raising OperationFailed where it cannot (a reference to no parm); `$OS` is the name of the node
  whose parm is evaluated; a variable Houdini does not know stays as written;
- `hou.text.expandString(str, expand_tilde=True)` and `expandStringAtFrame(str, frame,
  expand_tilde=True)` expand text as a parm of `hou.pwd()` would be (at the current frame, or at
  `frame`), a leading `~` as the home folder;
- cached user data (`setCachedUserData`) lives on the node for the session and is not saved.

`STATE["scene"]` (0 by default) stands for the scene: a render after it is changed writes other
noise into every frame (a re-render with the lighting changed), one with it unchanged the same.

Backticks and expressions understand `chs("path")` and `padzero(n, $F)` only: anything else
raises NotImplementedError, so a test never relies on HScript this stand-in does not model.
"""

from __future__ import annotations

import os
import posixpath
import re
import types
from pathlib import Path

from exr_sequences import write_sequence

STATE: dict = {}


def reset(variables: dict[str, str], frame: float = 1) -> None:
    STATE.clear()
    STATE.update(variables=dict(variables), frame=frame, selected=[], pwd=None, messages=[],
                 progress=[], nodes={}, scene=0)


class OperationFailed(Exception):
    pass


class OperationInterrupted(Exception):
    pass


exprLanguage = types.SimpleNamespace(Hscript="Hscript", Python="Python")


class Parm:
    def __init__(self, node: Node, name: str, value):
        self._node, self._name, self._value = node, name, value
        self._expression: str | None = None  # a keyframe's expression, as setExpression sets it

    def name(self) -> str:
        return self._name

    def node(self) -> Node:
        return self._node

    def path(self) -> str:
        return f"{self._node.path()}/{self._name}"

    def eval(self):
        return self.evalAtFrame(STATE["frame"])

    def evalAtFrame(self, frame: float):
        if self._expression is not None:
            return _hscript(self._expression, frame, self._node)
        return expand(self._value, frame, self._node) if isinstance(self._value, str) else self._value

    def evalAsString(self) -> str:
        return str(self.eval())

    def evalAsStringAtFrame(self, frame: float) -> str:
        return str(self.evalAtFrame(frame))

    def unexpandedString(self) -> str:
        if self._expression is not None:
            raise OperationFailed("Parameter contains keyframes: use expression()")
        if not isinstance(self._value, str):
            raise OperationFailed("Parameter is not a string parameter")
        return self._value

    def expression(self) -> str:
        if self._expression is None:
            raise OperationFailed("Parameter has no expression")
        return self._expression

    def setExpression(self, expression: str, language=None) -> None:
        self._expression = expression

    def getReferencedParm(self) -> Parm:
        match = _CHS.fullmatch(self._expression.strip()) if self._expression is not None else None
        try:
            return _referenced(self._node, match.group(1)) if match else self
        except OperationFailed:  # a reference to no parm: none is referenced
            return self

    def set(self, value) -> None:
        if self._expression is not None:
            raise NotImplementedError("set() on a parm holding an expression is not modelled")
        self._value = value


class ParmTuple:
    def __init__(self, values: tuple):
        self.values = values

    def eval(self) -> tuple:
        return self.values


class Node:
    """A node at `path` with string parms (`parms`: name -> value), e.g. a pipeline HDA."""

    def __init__(self, path: str, type_name: str = "subnet", parms: dict | None = None):
        self._path, self._type = path, type_name
        self._parms = {name: Parm(self, name, value) for name, value in (parms or {}).items()}
        self._cached: dict = {}
        STATE["nodes"][path] = self

    def path(self) -> str:
        return self._path

    def name(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    def type(self):
        return types.SimpleNamespace(name=lambda: self._type)

    def parm(self, name: str) -> Parm | None:
        return self._parms.get(name)

    def evalParm(self, name: str):
        return self._parms[name].eval()

    def setCachedUserData(self, name: str, value) -> None:
        self._cached[name] = value

    def cachedUserData(self, name: str):
        return self._cached.get(name)

    def destroyCachedUserData(self, name: str) -> None:
        if name not in self._cached:
            raise OperationFailed(f"no cached user data named {name}")
        del self._cached[name]


class RopNode(Node):
    """A ROP of type `type_name` whose output image parm is `output_parm`."""

    def __init__(self, path: str, type_name: str, output_parm: str | None, picture: str,
                 frame_range: tuple[float, float, float] = (1001, 1005, 1), trange: int = 1,
                 pan: tuple[float, str] | None = None):
        super().__init__(path, type_name, {"trange": trange})
        if output_parm:
            self._parms[output_parm] = Parm(self, output_parm, picture)
        for slot in ("prerender", "preframe", "postframe", "postrender"):
            self._parms[slot] = Parm(self, slot, "")
            self._parms[f"l{slot}"] = Parm(self, f"l{slot}", "hscript")
            self._parms[f"t{slot}"] = Parm(self, f"t{slot}", False)
        self.output_parm, self.range = output_parm, frame_range
        self.pan = pan  # (px a frame, motion vector convention): frames of a real pan, else still ones

    def parmTuple(self, name: str) -> ParmTuple | None:
        return ParmTuple(self.range) if name == "f" else None

    def frames(self, frame_range: tuple = ()) -> list[int]:
        if frame_range:
            start, end, step = (*frame_range, 1)[:3]
        elif self._parms["trange"].eval() == 0:
            return [int(STATE["frame"])]
        else:
            start, end, step = self.range
        return list(range(int(start), int(end) + 1, int(step)))

    def render(self, frame_range: tuple = ()) -> None:
        """Write each frame's EXR to the evaluated output image, running the scripts as Houdini
        does; `frame_range` (start, end[, inc]) overrides the ROP's own range, as in Houdini."""
        self._run_script("prerender")
        for frame in self.frames(frame_range):
            STATE["frame"] = frame
            self._run_script("preframe")
            path = Path(self._parms[self.output_parm].evalAsStringAtFrame(frame))
            name = path.name.removesuffix(".exr").removesuffix(f".{frame:04d}")
            seed = frame + 100_000 * STATE["scene"]
            if self.pan:
                write_sequence(path.parent, frames=[frame], name=name, seed=seed, motion=self.pan[0],
                               convention=self.pan[1], start=frame - int(self.range[0]))
            else:
                write_sequence(path.parent, frames=[frame], name=name, seed=seed)
            self._run_script("postframe")
        self._run_script("postrender")

    def _run_script(self, slot: str) -> None:
        if not (self._parms[f"t{slot}"].eval() and self._parms[slot].unexpandedString()):
            return
        assert self._parms[f"l{slot}"].evalAsString() == "python", "these tests run Python scripts"
        STATE["pwd"] = self
        try:
            exec(self._parms[slot].unexpandedString(), {"hou": _module()})
        finally:
            STATE["pwd"] = None


def _module():
    import sys

    return sys.modules["hou"]


_CHS = re.compile(r"""chs\(\s*["']([^"']+)["']\s*\)""")
_PADZERO = re.compile(r"padzero\(\s*(\d+)\s*,\s*\$F\s*\)")


def _referenced(node: Node, path: str) -> Parm:
    """The parm `path` names, relative to `node` as Houdini resolves channel references."""
    full = posixpath.normpath(posixpath.join(node.path(), path))
    owner, name = full.rsplit("/", 1)
    parm = STATE["nodes"][owner].parm(name) if owner in STATE["nodes"] else None
    if parm is None:
        raise OperationFailed(f"Invalid channel reference {path} from {node.path()}")
    return parm


def _hscript(expression: str, frame: float, node: Node | None) -> str:
    """The HScript expressions these tests use: chs("path") and padzero(n, $F)."""
    text = expression.strip()
    if match := _CHS.fullmatch(text):
        if node is None:
            raise OperationFailed(f"no node to resolve {text} from")
        return _referenced(node, match.group(1)).evalAsStringAtFrame(frame)
    if match := _PADZERO.fullmatch(text):
        return f"{int(frame):0{int(match.group(1))}d}"
    raise NotImplementedError(f"the stand-in hou does not evaluate {expression!r}")


def expand(text: str, frame: float, node: Node | None = None) -> str:
    """Houdini's expansion of backtick expressions, $VAR, ${VAR}, $F, $F4, ${F4} at `frame`, with
    $OS the name of `node` (the node whose parm is evaluated); the session's variables (`reset`)
    over the environment's, as Houdini's global variables include the environment; unknown
    variables stay as written."""
    def frame_token(match: re.Match) -> str:
        return f"{int(frame):0{int(match.group(1) or 1)}d}"

    text = re.sub(r"`([^`]*)`", lambda m: _hscript(m.group(1), frame, node), text)
    text = re.sub(r"\$\{F(\d*)\}", frame_token, text)
    text = re.sub(r"\$F(\d*)(?![A-Za-z_])", frame_token, text)
    variables = {**os.environ, **STATE["variables"], **({"OS": node.name()} if node is not None else {})}
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                  lambda m: variables.get(m.group(1), m.group(0)), text)


def _expand_string_at_frame(text: str, frame: float, expand_tilde: bool = True) -> str:
    """hou.text.expandStringAtFrame(str, frame, expand_tilde=True): expanded as a parm of the
    current node (hou.pwd()) would be at `frame`, a leading ~ as the home folder unless told not."""
    expanded = expand(text, frame, STATE["pwd"])
    return os.path.expanduser(expanded) if expand_tilde else expanded


def _expand_string(text: str, expand_tilde: bool = True) -> str:
    """hou.text.expandString(str, expand_tilde=True): expandStringAtFrame at the current frame."""
    return _expand_string_at_frame(text, STATE["frame"], expand_tilde)


text = types.SimpleNamespace(expandString=_expand_string, expandStringAtFrame=_expand_string_at_frame)


def frame() -> float:
    return STATE["frame"]


def pwd():
    return STATE["pwd"]


def node(path: str):
    return STATE["nodes"].get(path)


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
    """Records progress; raises OperationInterrupted (Esc pressed) once STATE['interrupt_after']
    updates were made, or, where that is a status text, once an update showed it (Esc pressed
    while the bar shows 'frame 1001 (1 of 5)'), and at every update after, as Houdini does."""

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
        if isinstance(limit, str):
            pressed = any(status == limit for _, status in STATE["progress"])
        else:
            pressed = limit is not None and len(STATE["progress"]) >= limit
        if pressed:
            raise OperationInterrupted("interrupted by the user")
