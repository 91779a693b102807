"""A stand-in `nuke` module: enough of Nuke to load our gizmo file and press its Denoise button.

It parses the .gizmo (Nuke's Tcl script syntax) into a Group of nodes with their knobs, evaluates
the few Tcl expressions our knobs use, and "renders" a Write node by writing real EXRs of its
input with the channel names Nuke's EXR writer gives them (its own rules, written from Nuke's
behaviour, not imported from our plugin), at proxy size while the root's proxy mode is on, as
Nuke does. Reads are fake nodes backed by a real EXR sequence.

Knob expressions are evaluated at the current frame (`frame`, set with nuke.frame(f)); a Read
reads its file's frames over first-last and, outside them, what its `before`/`after` knobs say
(`Node.read_frame`, Nuke's `hold` by default). A node's `onCreate` knob runs when it is created,
loaded or pasted (its knobs set and its input connected), its `knobChanged` knob on an input
connected (nuke.thisKnob() is then the `inputChange` knob, as Nuke's callback gets it). A Read's
metadata is what Nuke's Read gives of the file it reads: input/filename, input/mtime,
input/filesize.

Saving a script (scriptSave) or copying nodes (nodeCopy) writes what Nuke writes for a gizmo: its
own knobs that differ from the .gizmo's defaults, never its internal nodes; opening (scriptOpen,
scriptReadFile) or pasting (nodePaste) builds each gizmo afresh from its .gizmo file and then sets
those knobs, so anything set directly on an internal node is lost, as in Nuke.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr

# --- Tcl-ish parsing of .nk / .gizmo text -------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Words of Tcl text: {braced} (kept with braces), "quoted" (unescaped), [bracketed], bare; and
    '\\n' tokens between commands."""
    words, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            words.append("\n")
            i += 1
        elif ch.isspace():
            i += 1
        elif ch in "{[":
            close, depth, j = "}" if ch == "{" else "]", 0, i
            while True:
                if text[j] == "\\":
                    j += 2
                    continue
                depth += text[j] == ch
                depth -= text[j] == close
                j += 1
                if depth == 0:
                    break
            words.append(text[i:j])
            i = j
        elif ch == '"':
            j, out = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    nxt = text[j + 1]
                    out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                    j += 2
                else:
                    out.append(text[j])
                    j += 1
            words.append("".join(out))
            i = j + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace():
                j += 1
            words.append(text[i:j].replace("\\[", "[").replace("\\]", "]"))
            i = j
    return words


def commands(text: str) -> list[list[str]]:
    """Commands (lists of words) of Tcl text."""
    out, current = [], []
    for word in tokenize(text):
        if word == "\n":
            if current:
                out.append(current)
            current = []
        else:
            current.append(word)
    if current:
        out.append(current)
    return out


def unbrace(word: str) -> str:
    if word.startswith("{") and word.endswith("}"):
        return word[1:-1].replace("\\[", "[").replace("\\]", "]")
    return word


def user_knob(spec: str) -> dict:
    """{41 beauty l "beauty layer" t "..." T BeautyLayer.channels +STARTLINE} -> a dict."""
    words = [w for w in tokenize(unbrace(spec)) if w != "\n"]
    knob = {"type": int(words[0]), "name": unbrace(words[1]), "flags": []}
    i = 2
    while i < len(words):
        if words[i][0] in "+-" and len(words[i]) > 1:
            knob["flags"].append(words[i])
            i += 1
        else:
            knob[words[i]] = unbrace(words[i + 1])
            i += 2
    return knob


# --- nodes and knobs ------------------------------------------------------------------------------

KNOB_CLASSES = {1: "String_Knob", 2: "File_Knob", 3: "Int_Knob", 4: "Enumeration_Knob",
                6: "Boolean_Knob", 7: "Double_Knob", 20: "Tab_Knob", 22: "PyScript_Knob",
                26: "Text_Knob", 41: "Link_Knob"}


class Knob:
    def __init__(self, node: Node, name: str, value=None, kind: str = "Knob", spec: dict | None = None):
        self.node, self._name, self._value, self.kind, self.spec = node, name, value, kind, spec or {}
        self.executed = 0

    def name(self) -> str:
        return self._name

    def Class(self) -> str:
        return self.kind

    def value(self):
        """The value; an expression ({parent.knob}, {!parent.knob||frame<parent.first}) evaluated
        at the current frame, as Nuke does."""
        if not self.hasExpression():
            return self._value
        expression = _EXPRESSION.fullmatch(self._value)
        if expression is None:
            return evaluate_expression(self._value[1:-1], self.node)
        value = knob_at(expression.group(2), self.node).value()
        return (not value) if expression.group(1) else value

    def getValue(self):
        return self.value()

    def setValue(self, value) -> None:
        self._value = value

    def toScript(self) -> str:
        """The knob as a script holds it: an expression unevaluated ('{parent.strength}')."""
        return self._value if isinstance(self._value, str) else _script_word(self._value)

    def hasExpression(self) -> bool:
        return isinstance(self._value, str) and self._value.startswith("{") and self._value.endswith("}")

    def evaluate(self) -> str:
        return evaluate_tcl(str(self._value), self.node)

    def execute(self) -> None:
        """Press a button: a PyScript knob runs its script with nuke.thisNode() set, as Nuke does."""
        self.executed += 1
        if self.kind == "PyScript_Knob":
            previous, STATE["this_node"] = STATE["this_node"], self.node
            try:
                exec(self.spec.get("T", ""), {"nuke": sys.modules["nuke"]})
            finally:
                STATE["this_node"] = previous


class LinkKnob(Knob):
    """A Link_Knob: reads and writes the knob it links to (T Node.knob) inside the group."""

    def target(self) -> Knob:
        node_name, knob_name = self.spec["T"].split(".")
        return self.node.child(node_name)[knob_name]

    def value(self):
        return self.target().value()

    def setValue(self, value) -> None:
        self.target().setValue(value)

    def toScript(self) -> str:
        return self.target().toScript()


_EXPRESSION = re.compile(r"\{(!?)([A-Za-z_][\w.]*)\}")  # the knob expressions our gizmo uses


# The words of Nuke's expression language our knobs use: C's operators, numbers, knob paths, frame.
_EXPRESSION_WORD = re.compile(r"\s*(\|\||&&|<=|>=|==|!=|[!<>()*+-]|\d+(?:\.\d*)?|[A-Za-z_][\w.]*)")
_PYTHON_OPERATOR = {"||": " or ", "&&": " and ", "!": " not "}


def evaluate_expression(text: str, node: Node):
    """A Nuke expression of knob paths, `frame` (the current frame), numbers and C's operators
    (|| && ! < > <= >= == != * + -), evaluated as Nuke does: a knob path is its knob's value."""
    python, position = [], 0
    while position < len(text.rstrip()):
        word = _EXPRESSION_WORD.match(text, position)
        if word is None:
            raise ValueError(f"expression {text!r}: cannot read it at {text[position:]!r}")
        token, position = word.group(1), word.end()
        if token == "frame":
            token = repr(STATE["frame"])
        elif token[0].isalpha() or token[0] == "_":
            token = repr(knob_at(token, node).value())
        python.append(_PYTHON_OPERATOR.get(token, token))
    return eval("".join(python), {"__builtins__": {}})  # only the words matched above


def knob_at(path: str, node: Node) -> Knob:
    """The knob a Tcl or expression path names, seen from `node`: 'knob', 'parent.knob' (the group
    the node sits in), 'root.knob', 'Sibling.knob'."""
    *nodes, name = path.split(".")
    for part in nodes:
        node = root() if part == "root" else node._parent if part == "parent" else node._parent.child(part)
    return node[name]


def evaluate_tcl(text: str, node: Node) -> str:
    """The Tcl our knobs use: [value root.name], [value knob], [value parent.knob], [file dirname X]."""
    pattern = re.compile(r"\[(value|file dirname) ([^\[\]]*)\]")
    while match := pattern.search(text):
        command, argument = match.groups()
        if command == "value":
            result = STATE["root_name"] if argument == "root.name" else str(knob_at(argument, node).value())
        else:
            result = os.path.dirname(argument) or "."
        text = text[:match.start()] + result + text[match.end():]
    return text


class FrameRange:
    def __init__(self, first: int, last: int):
        self._first, self._last = first, last

    def first(self) -> int:
        return self._first

    def last(self) -> int:
        return self._last


class Node:
    def __init__(self, node_class: str, knobs: dict | None = None):
        self._class = node_class
        self._knobs: dict[str, Knob] = {}
        self._children: list[Node] = []
        self._inputs: list[Node | None] = []
        self._parent: Node | None = STATE["groups"][-1] if STATE.get("groups") else None
        self._selected = False
        self.gizmo: str | None = None  # the .gizmo a node was built from (its class in a script)
        self.defaults: dict[str, str] = {}  # its knobs as the .gizmo sets them: what saving skips
        for name, value in (knobs or {}).items():
            self._knobs[name] = Knob(self, name, value)
        if node_class == "Write":
            self._knobs.setdefault("file", Knob(self, "file", ""))
        if node_class == "Read":
            for name in ("file", "first", "last", "origfirst", "origlast"):
                self._knobs.setdefault(name, Knob(self, name, ""))
            for name in ("before", "after"):
                self._knobs.setdefault(name, Knob(self, name, "hold"))  # Nuke's default
            self._knobs["reload"] = Knob(self, "reload", None, "PyScript_Knob")

    def Class(self) -> str:
        return self._class

    def name(self) -> str:
        return self._knobs["name"].value()

    def fullName(self) -> str:
        """The name with the groups it sits in: Group1.VfxDenoise1."""
        return f"{self._parent.fullName()}.{self.name()}" if self._parent else self.name()

    def __getitem__(self, name: str) -> Knob:
        return self._knobs[name]

    def knob(self, name: str) -> Knob | None:
        return self._knobs.get(name)

    def knobs(self) -> dict[str, Knob]:
        return dict(self._knobs)

    def add_knob(self, knob: Knob) -> None:
        self._knobs[knob.name()] = knob

    def input(self, index: int):
        return self._inputs[index] if index < len(self._inputs) else None

    def setInput(self, index: int, node) -> None:
        """Connect input `index`; the node's knobChanged callback runs with the `inputChange` knob."""
        self._connect(index, node)
        run_callback(self, "knobChanged", Knob(self, "inputChange"))

    def _connect(self, index: int, node) -> None:
        self._inputs += [None] * (index + 1 - len(self._inputs))
        self._inputs[index] = node

    def metadata(self, key: str | None = None, time_: int | None = None, view: str | None = None):
        """A node that reads no file has no metadata of one."""
        return None if key is not None else {}

    def read_frame(self, frame: int) -> int | None:
        """The frame of its file a Read shows at `frame`: that one within first-last; before or
        after them, as its `before`/`after` knob says: `hold` the first or last frame, `black`
        none (None)."""
        first, last = int(self["first"].value()), int(self["last"].value())
        if first <= frame <= last:
            return frame
        how = self["before" if frame < first else "after"].value()
        if how == "black":
            return None
        if how == "hold":
            return first if frame < first else last
        raise NotImplementedError(f"the stand-in Read does not model before/after {how}")

    def child(self, name: str) -> Node:
        return next(n for n in self._children if n.name() == name)

    def setSelected(self, selected: bool) -> None:
        self._selected = bool(selected)

    def isSelected(self) -> bool:
        return self._selected

    def nodes(self) -> list[Node]:
        return list(self._children)

    def __enter__(self):
        STATE["groups"].append(self)
        return self

    def __exit__(self, *exc) -> None:
        STATE["groups"].pop()


class SequenceRead(Node):
    """A Read of a real EXR sequence, with Nuke's channel names (albedo.R -> albedo.red)."""

    def __init__(self, name: str, pattern: str, first: int, last: int):
        super().__init__("Read", {"name": name, "file": pattern})
        self.pattern, self.range = pattern, FrameRange(first, last)
        STATE["reads"].append(self)

    def frameRange(self) -> FrameRange:
        return self.range

    def frame_path(self, frame: int) -> Path:
        return Path(self.pattern.replace("####", f"{frame:04d}"))

    def channels(self) -> list[str]:
        return [nuke_name(c) for c in read_exr(self.frame_path(self.range.first())).channel_names]

    def metadata(self, key: str | None = None, time_: int | None = None, view: str | None = None):
        """Nuke's Read metadata of the file of frame `time_` (the current frame by default):
        input/filename, input/mtime (its modification time, as Nuke writes it), input/filesize."""
        path = self.frame_path(STATE["frame"] if time_ is None else time_)
        info = path.stat()
        data = {"input/filename": str(path), "input/filesize": info.st_size,
                "input/mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.st_mtime))}
        return data if key is None else data.get(key)


NUKE_COMPONENT = {"R": "red", "G": "green", "B": "blue", "A": "alpha"}
EXR_COMPONENT = {v: k for k, v in NUKE_COMPONENT.items()}


def nuke_name(exr_channel: str) -> str:
    """How Nuke's EXR reader names a channel: R -> rgba.red, albedo.R -> albedo.red,
    diffuse.direct.R -> diffuse_direct.red, N.X -> N.X, Z -> depth.Z."""
    layer, _, component = exr_channel.rpartition(".")
    if not layer:
        return f"depth.{component}" if component == "Z" else f"rgba.{NUKE_COMPONENT[component]}"
    return f"{layer.replace('.', '_')}.{NUKE_COMPONENT.get(component, component)}"


def exr_name(nuke_channel: str) -> str:
    """How Nuke's EXR writer names a channel: rgba.red -> R, albedo.red -> albedo.R, N.X -> N.X."""
    layer, _, component = nuke_channel.rpartition(".")
    component = EXR_COMPONENT.get(component, component)
    return component if layer == "rgba" else f"{layer}.{component}"


# --- the module's API -----------------------------------------------------------------------------

STATE: dict = {}


def reset(nuke_path: list[str], root_name: str = "") -> None:
    """Fresh Nuke session state started with NUKE_PATH=`nuke_path` (on the plugin path and sys.path)."""
    STATE.clear()
    sys.path[:0] = nuke_path
    STATE.update(root_name=root_name, plugin_path=list(nuke_path), groups=[], this_node=None, this_knob=None,
                 frame=1, menus={},
                 messages=[], alerts=[], terminal=[], executed=[], tasks=[], cancel_after=None, created=[],
                 reads=[], clipboard="")
    STATE["root"] = Node("Root", {"name": "Root", "proxy": False, "proxy_scale": 0.5})


def pluginAddPath(path: str) -> None:
    STATE["plugin_path"].insert(0, path)
    sys.path.insert(0, path)


class Menu:
    def __init__(self, name: str):
        self.name, self.commands = name, {}

    def addCommand(self, name: str, command: str, *args, **kwargs) -> None:
        self.commands[name] = command


def menu(name: str) -> Menu:
    return STATE["menus"].setdefault(name, Menu(name))


def message(text: str) -> None:
    STATE["messages"].append(text)


def alert(text: str) -> None:
    """Nuke's warning box."""
    STATE["alerts"].append(text)


def tprint(*values) -> None:
    """Print to the terminal Nuke was started from (its log), as print() joins its values."""
    STATE["terminal"].append(" ".join(str(value) for value in values))


def root() -> Node:
    """The script's root; its name is the script's path ('Root' while unsaved); its `proxy` knob
    is the session's proxy mode (off), `proxy_scale` the size proxy renders are made at."""
    STATE["root"]["name"].setValue(STATE["root_name"] or "Root")
    return STATE["root"]


def thisNode() -> Node:
    return STATE["this_node"]


def thisKnob() -> Knob | None:
    return STATE["this_knob"]


def frame(number: int | None = None) -> int:
    """The current frame; given `number`, go to that frame first."""
    if number is not None:
        STATE["frame"] = int(number)
    return STATE["frame"]


def run_callback(node: Node, name: str, knob: Knob | None = None) -> None:
    """Run the node's `name` callback knob (onCreate, knobChanged), if it has one, with
    nuke.thisNode() (and nuke.thisKnob(): `knob`) set, as Nuke does."""
    script = node.knob(name)
    if script is None or not script.value():
        return
    previous = STATE["this_node"], STATE["this_knob"]
    STATE["this_node"], STATE["this_knob"] = node, knob
    try:
        exec(script.value(), {"nuke": sys.modules["nuke"]})
    finally:
        STATE["this_node"], STATE["this_knob"] = previous


def allNodes(filter: str | None = None, group: Node | None = None, recurseGroups: bool = False) -> list[Node]:
    """The script's nodes (of class `filter`), those inside groups too with `recurseGroups`."""
    found = [*STATE["reads"], *(group.nodes() if group else STATE["created"])]
    if recurseGroups:
        found += [child for node in found for child in node.nodes()]
    return [node for node in found if filter is None or node.Class() == filter]


def toNode(name: str) -> Node | None:
    group = STATE["groups"][-1] if STATE["groups"] else None
    nodes = group.nodes() if group else STATE["created"]
    return next((n for n in nodes if n.name() == name), None)


def createNode(node_class: str, *args, **kwargs) -> Node:
    """A gizmo found on the plugin path becomes a Group of its nodes, as Nuke loads it; its
    onCreate callback runs."""
    node = _gizmo(node_class)
    run_callback(node, "onCreate")
    return node


def _gizmo(node_class: str) -> Node:
    """A new node of gizmo `node_class`, its knobs as the .gizmo sets them."""
    for folder in STATE["plugin_path"]:
        gizmo = Path(folder) / f"{node_class}.gizmo"
        if gizmo.is_file():
            node = load_gizmo(gizmo)
            node.gizmo = node_class
            node.defaults = {name: knob.toScript() for name, knob in node.knobs().items()}
            STATE["created"].append(node)
            return node
    raise RuntimeError(f"{node_class}: unknown command")


def load_gizmo(path: Path) -> Node:
    """Parse a .gizmo: its Gizmo block's knobs and user knobs, then its child nodes up to end_group."""
    group = None
    for words in commands(path.read_text()):
        head = words[0]
        if head in ("version", "set", "push", "end_group"):
            continue
        knob_words = [w for w in tokenize(unbrace(words[1])) if w != "\n"] if len(words) > 1 else []
        if head == "Gizmo":
            group = Node("Group")
            _apply_knobs(group, knob_words)
            continue
        child = Node(head)
        child._parent = group
        _apply_knobs(child, knob_words)
        group._children.append(child)
    return group


def _apply_knobs(node: Node, words: list[str]) -> None:
    for name, value in zip(words[::2], words[1::2]):
        if name == "addUserKnob":
            spec = user_knob(value)
            kind = KNOB_CLASSES.get(spec["type"], "Knob")
            cls = LinkKnob if kind == "Link_Knob" else Knob
            default = {"Boolean_Knob": False, "Int_Knob": 0, "Double_Knob": 0.0}.get(kind, "")
            if kind == "Enumeration_Knob":
                default = [w for w in tokenize(unbrace(spec["M"])) if w != "\n"][0]
            node.add_knob(cls(node, spec["name"], spec.get("T", default) if kind == "Text_Knob"
                              else default, kind, spec))
        elif node.knob(name) is not None:
            node[name].setValue(_value(value))
        else:
            node.add_knob(Knob(node, name, _value(value)))


def _value(word: str):
    if re.fullmatch(r"-?\d+", word):
        return int(word)
    if re.fullmatch(r"-?\d+\.\d*", word):
        return float(word)
    return {"true": True, "false": False}.get(word, unbrace(word))


def execute(node: Node, first: int, last: int, incr: int = 1) -> None:
    """Render a Write: its input's frames, all channels, as EXR named the way Nuke's writer names them."""
    STATE["executed"].append((node.name(), first, last))
    assert node["channels"].value() == "all" and node["file_type"].value() == "exr"
    source = _upstream_read(node)
    pattern = node["file"].value()
    step = round(1 / root()["proxy_scale"].value()) if root()["proxy"].value() else 1
    for frame in range(first, last + 1, incr):
        image = read_exr(source.frame_path(frame))
        channels = {exr_name(nuke_name(c)): image.get([c])[0][::step, ::step] for c in image.channel_names}
        out = Path(pattern.replace("####", f"{frame:04d}"))
        out.parent.mkdir(parents=True, exist_ok=True)
        write_exr(out, ExrImage.from_channels(channels, pixel_types="float"))


def _upstream_read(write: Node) -> SequenceRead:
    """The gizmo's Write hangs off Input1, which is the group's input 0."""
    group = next(g for g in STATE["created"] if write in g.nodes())
    return group.input(0)


class ProgressTask:
    def __init__(self, title: str):
        self.title, self.messages, self.progress = title, [], []
        STATE["tasks"].append(self)

    def setMessage(self, text: str) -> None:
        self.messages.append(text)

    def setProgress(self, percent: int) -> None:
        self.progress.append(percent)

    def isCancelled(self) -> bool:
        after = STATE["cancel_after"]
        return after is not None and len(self.progress) >= after


# --- scripts: save/open, copy/paste -----------------------------------------------------------------


def scriptSave(filename: str) -> None:
    """Save the script: every node made with createNode and the Reads upstream of them."""
    Path(filename).write_text(_script(STATE["created"], with_upstream=True))
    STATE["root_name"] = filename


def scriptClear() -> None:
    """An empty script (the session stays: plugin path, menus)."""
    STATE.update(created=[], reads=[], root_name="")


def scriptOpen(filename: str) -> None:
    """Open a saved script in this (cleared) session."""
    scriptClear()
    scriptReadFile(filename)
    STATE["root_name"] = filename


def scriptReadFile(filename: str) -> None:
    """Add a script's nodes to this one: gizmos rebuilt from their .gizmo file, then their knobs."""
    _read_script(Path(filename).read_text(), paste_input=None)


def selectedNodes() -> list[Node]:
    return [n for n in STATE["created"] + STATE["reads"] if n.isSelected()]


def nodeCopy(destination: str) -> bool:
    """Copy the selected nodes as script text ('%clipboard%' or a file)."""
    text = _script(selectedNodes(), with_upstream=False)
    if destination == "%clipboard%":
        STATE["clipboard"] = text
    else:
        Path(destination).write_text(text)
    return True


def nodePaste(source: str) -> Node | None:
    """Paste nodes copied by nodeCopy, connected to the selected node where their input was not
    copied; names already in the script get a number, as Nuke renames them."""
    text = STATE["clipboard"] if source == "%clipboard%" else Path(source).read_text()
    selected = selectedNodes()
    pasted = _read_script(text, paste_input=selected[-1] if selected else None)
    return pasted[-1] if pasted else None


def _script(nodes: list[Node], with_upstream: bool) -> str:
    """Nuke script text of `nodes` (and, `with_upstream`, the Reads they hang off): each node
    after its input, a gizmo as its class with only its knobs that differ from the .gizmo's."""
    order: list[Node] = []
    for node in nodes:
        upstream = node.input(0)
        if isinstance(upstream, SequenceRead) and upstream not in order and (
                with_upstream or upstream in nodes):
            order.append(upstream)
        if (node.gizmo is not None or isinstance(node, SequenceRead)) and node not in order:
            order.append(node)
    lines, names = [], {}
    for index, node in enumerate(order):
        if isinstance(node, SequenceRead):
            knobs = {"inputs": 0, "file": node.pattern, "first": node.range.first(),
                     "last": node.range.last(), "name": node.name()}
            lines.append("Read {")
        else:
            upstream = node.input(0)
            lines.append("push 0" if upstream is None else f"push ${names[id(upstream)]}"
                         if id(upstream) in names else "push $cut_paste_input")
            knobs = {"name": node.name()}
            knobs.update((name, knob.toScript()) for name, knob in node.knobs().items()
                         if knob.Class() not in ("PyScript_Knob", "Tab_Knob")
                         and knob.toScript() != node.defaults.get(name))
            lines.append(f"{node.gizmo} {{")
        lines += [f" {name} {_script_word(value)}" for name, value in knobs.items()]
        names[id(node)] = f"N{index}"
        lines += ["}", f"set N{index} [stack 0]"]
    return "\n".join(lines) + "\n"


def _script_word(value) -> str:
    """A knob value as a word of a script: true/false, a number, or a quoted string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    escaped = "".join("\\" + ch if ch in '\\"[]' else "\\n" if ch == "\n" else ch for ch in str(value))
    return f'"{escaped}"'


def _read_script(text: str, paste_input: Node | None) -> list[Node]:
    """Build the nodes of script `text` (its stack of inputs, `set`/`push`); gizmos from their
    .gizmo file, then the saved knobs; return them in order."""
    stack: list[Node | None] = []
    names: dict[str, Node | None] = {"cut_paste_input": paste_input}
    made: list[Node] = []
    for words in commands(text):
        head = words[0]
        if head == "push":
            stack.append(None if words[1] == "0" else names[words[1].lstrip("$")])
            continue
        if head == "set":
            names[words[1]] = stack[-1]
            continue
        knob_words = [w for w in tokenize(unbrace(words[1])) if w != "\n"]
        knobs = {name: _value(value) for name, value in zip(knob_words[::2], knob_words[1::2])}
        if head == "Read":
            node = SequenceRead(_free_name(knobs["name"]), knobs["file"], knobs["first"], knobs["last"])
        else:
            node = _gizmo(head)
            _apply_knobs(node, knob_words)
            node["name"].setValue(_free_name(knobs["name"], node))
            node._connect(0, stack.pop() if stack else None)
            run_callback(node, "onCreate")
        stack.append(node)
        made.append(node)
    return made


def _free_name(name: str, node: Node | None = None) -> str:
    """`name`, or with the next free number when another node of the script has it (Nuke's way)."""
    taken = {n.name() for n in STATE["created"] + STATE["reads"] if n is not node}
    if name not in taken:
        return name
    stem, number = re.fullmatch(r"(.*?)(\d*)", name).groups()
    number = int(number or 0) + 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"
