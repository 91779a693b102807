"""Checks on output frames before and during a run: never overwrite inputs, never write files the
input pattern would read as frames, refuse unwritable folders and too-long names up front, and
tell a finished frame (what --resume skips) from a damaged one.

Frames themselves are written atomically by `exr.write_exr` (temp file + rename), so a file under a
final name is complete unless something else damaged it or copied it partially: `is_complete`
decodes it whole before --resume keeps it; one writer per frame is `frame_locks`'s.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from vfxdenoise.core.errors import ExrError, OutputError, UsageError
from vfxdenoise.core.io.atomic import TEMP_NAME_EXTRA
from vfxdenoise.core.io.exr import check_decodes
from vfxdenoise.core.io.frame_pattern import EXAMPLE_FRAME, output_pattern_problem
from vfxdenoise.core.io.sequence import FramePattern, format_frames
from vfxdenoise.core.run_warnings import carried, warn

if TYPE_CHECKING:
    import OpenImageIO as oiio

log = logging.getLogger(__name__)

# The other way out of an output folder that cannot be written to, as an unwritable folder's error
# says it: a run's own -o, or, for a farm task (a run given --job-frames), the job's output folder,
# which a wrangler sets at submission, not the task's command line
OTHER_OUTPUT = "use -o"
FARM_OTHER_OUTPUT = ("give the job another output folder (its OutputDirectory parameter in an Open "
                     "Job Description bundle; `vfxdenoise farm -o` writing it again)")


def check_writable(in_pattern: FramePattern, out_pattern: FramePattern, input_frames: list[int],
                   wanted: list[int], folder_needed: bool = True,
                   listed: dict[int, os.DirEntry] | None = None, other_output: str = OTHER_OUTPUT) -> None:
    """Refuse, before any work, outputs of the frames the run writes (`wanted`: not those it
    settles as missing unread, `run_plan.frames_written`) that would replace inputs, become frames
    of the input sequence (a missing frame's output under --missing hold), are not EXR files, or
    land in an unwritable folder: that last one only where the folder is `folder_needed` (a
    --resume run whose every output is on disk may find nothing to write: it calls
    `check_folder_writable` once it knows it has something). An output pattern no run can take
    (the input pattern itself, not .exr, names too long) is a UsageError; the rest, found on
    disk, OutputError.
    `listed`: the input frames' files from the run's own listing of the input folder
    (`SequenceOnDisk.files`), whose entries tell links and inodes apart; None lists it here
    (`FramePattern.files_on_disk`): a folder of 100k files on a network share is listed once.
    `other_output`: how an unwritable folder's error says to write elsewhere (`check_folder_writable`)."""
    refuse_output_pattern(in_pattern, out_pattern, wanted[0] if wanted else EXAMPLE_FRAME)
    lookups = _Folders()
    on_disk = set(input_frames)
    files = in_pattern.files_on_disk() if listed is None else listed
    inputs = {frame: entry for frame, entry in files.items() if frame in on_disk}
    clashes = _over_inputs(in_pattern, out_pattern, on_disk, inputs, wanted, lookups)
    if clashes:
        raise OutputError(
            f"output pattern {out_pattern.typed} would overwrite input frames "
            f"{format_frames(clashes)}; choose another -o/--output"
        )
    if lookups.same(out_pattern.directory, in_pattern.directory):
        _check_not_read_as_inputs(in_pattern, out_pattern, wanted)
    folder = out_pattern.directory
    existing = _nearest_existing(folder)
    _check_name_length(out_pattern, wanted, existing)
    if not existing.is_dir():
        raise OutputError(f"cannot create output folder {folder}: {existing} is a file, not a folder")
    found = _outputs_on_disk(out_pattern, wanted) if existing == folder else {}
    _refuse_inputs_by_other_names(out_pattern, inputs, found)
    if folder_needed:
        check_folder_writable(out_pattern, other_output)
    folders = [frame for frame, info in found.items() if stat.S_ISDIR(info.st_mode)]
    if folders:
        raise OutputError(f"{out_pattern.path(folders[0])} is a folder where output frame {folders[0]} "
                          f"would be written ({len(folders)} such); remove it or use -o")


def refuse_output_pattern(in_pattern: FramePattern, out_pattern: FramePattern,
                          frame: int = EXAMPLE_FRAME, typed: str | None = None,
                          typed_input: str | None = None) -> None:
    """Raise UsageError for an output pattern no run can take, as written, whichever frames it
    writes (none, all missing, too; `frame`, the first it writes, names its file):
    `output_pattern_problem`'s, which a host's request is refused by as it is built too, naming
    the patterns as `typed` and `typed_input` where given. seq asks before it looks at the frames
    on disk too, so a missing frame does not make it exit 1."""
    problem = output_pattern_problem(in_pattern, out_pattern, "choose another -o/--output (without it "
                                     "they are written beside the inputs as <name>_denoised.####.exr)",
                                     frame, typed, typed_input)
    if problem:
        raise UsageError(f"-o/--output {problem}")


def _outputs_on_disk(out_pattern: FramePattern, wanted: list[int]) -> dict[int, os.stat_result]:
    """The output frames of `wanted` something is at already (a link followed), by frame: one
    stat each, only of the frames this run writes."""
    found = {}
    for frame in wanted:
        with contextlib.suppress(OSError):  # nothing there (or unreachable: writing it says why)
            found[frame] = os.stat(out_pattern.path(frame))
    return found


def _refuse_inputs_by_other_names(out_pattern: FramePattern, inputs: dict[int, os.DirEntry],
                                  found: dict[int, os.stat_result]) -> None:
    """Refuse outputs on disk (`found`) that are input frames' files reached under another name or
    path, which --overwrite would replace: on a file system that ignores case (SMB shares, macOS),
    R.1001.exr beside r.1001.exr is that file's one name; through another mount of the inputs'
    folder (a bind mount), or of a frame, another path reaches it. Told by device and inode: the
    listing of `inputs` gives each input's inode without a stat, and only an output with an
    input's inode is looked at further, both paths' devices and inodes compared (`_same_inode`:
    an inode number alone may be another device's file) and the name checked (`_one_name_of`).
    A hard link is a name of its own, which a frame written over replaces, leaving the input as
    it was: it passes."""
    if not found:
        return
    by_inode: dict[int, list[os.DirEntry]] = {}
    for entry in inputs.values():
        with contextlib.suppress(OSError):
            by_inode.setdefault(entry.inode(), []).append(entry)
    listed: list[set[str]] = []  # the output folder's names, listed once where needed
    same = {}
    for frame, info in found.items():
        for entry in by_inode.get(info.st_ino, ()):
            path = out_pattern.path(frame)
            if _same_inode(Path(entry.path), path) and _one_name_of(path, info, listed):
                same[frame] = entry.name
    if same:
        frame, name = next(iter(same.items()))
        raise OutputError(
            f"output pattern {out_pattern.typed} would overwrite input frames {format_frames(sorted(same))}: "
            f"{out_pattern.name(frame)} is the input file {name} reached under another name or path (a "
            "file system that ignores case, or another mount of the inputs' folder); choose another "
            "-o/--output")


def _one_name_of(path: Path, info: os.stat_result, listed: list[set[str]]) -> bool:
    """Whether `path`, the file of an input by another path, reaches the input's own name (the
    folder holds no entry spelt as `path`: a file system that ignores case found it), rather
    than being a hard link of its own. A file of one link has no other name; for one of more,
    the folder is listed (once, into `listed`) for the name as spelt."""
    if info.st_nlink <= 1:
        return True
    if not listed:
        try:
            listed.append(set(os.listdir(path.parent)))
        except OSError:
            listed.append(set())
    return path.name not in listed[0]


def check_folder_writable(out_pattern: FramePattern, other_output: str = OTHER_OUTPUT) -> None:
    """Refuse an output folder that cannot be written to, or made where it does not exist (the
    nearest folder above it that exists cannot be written to). A folder on a read-only file system
    (access(2)'s EROFS: a mount published read-only) is said to be so: fixing permissions, the
    advice for the rest, does not help there. `other_output`: how to write elsewhere instead
    (OTHER_OUTPUT, or a farm task's FARM_OTHER_OUTPUT)."""
    folder = out_pattern.directory
    existing = _nearest_existing(folder)
    if os.access(existing, os.W_OK | os.X_OK):
        return
    why, fix = (("is not writable (a read-only file system)", "mount it writable")
                if _read_only(existing) else ("is not writable", "fix its permissions"))
    if existing == folder:
        raise OutputError(f"output folder {folder} {why}; {fix} or {other_output}")
    raise OutputError(f"cannot create output folder {folder}: {existing} {why}; {fix} or {other_output}")


def _read_only(folder: Path) -> bool:
    """Whether `folder` lies on a file system mounted read-only (where writing fails with EROFS),
    told by statvfs's ST_RDONLY flag; False where that cannot be told."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _nearest_existing(folder: Path) -> Path:
    """`folder`, or the nearest folder above it that exists; OutputError where a folder on the way
    cannot be looked into (not searchable: Python raises rather than say it does not exist)."""
    for path in (folder, *folder.parents):
        try:
            if path.exists():
                return path
            if path.is_symlink():
                raise OutputError(f"cannot create output folder {folder}: {path} is a link to "
                                  f"{os.readlink(path)}, which does not exist; create that or use -o")
        except OSError as exc:
            raise OutputError(f"cannot reach output folder {folder}: {path.parent} cannot be looked "
                              f"into ({exc.strerror}); fix its permissions or use -o") from exc
    return Path(folder.anchor or ".")


def make_output_folder(out_pattern: FramePattern) -> list[Path]:
    """Create the outputs' folder, once nothing is left to refuse (`check_writable` only looks,
    so a refused run leaves no empty folder behind); the folders it created, deepest first."""
    folder = out_pattern.directory
    created = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror}") from exc
    return created


@contextlib.contextmanager
def output_folder(out_pattern: FramePattern, needed: bool = True) -> Iterator[None]:
    """The outputs' folder for a run's writing (`make_output_folder`; not made when nothing is
    `needed`): the folders it made are removed again as the run ends if they are still empty
    (it stopped, or failed, before writing a frame: a refusal found only once it ran, such as a
    temporal window too large for memory), so such a run leaves the disk as it found it."""
    created = make_output_folder(out_pattern) if needed else []
    try:
        yield
    finally:
        for folder in created:  # deepest first; one another run wrote into is kept
            try:
                folder.rmdir()
            except OSError:
                break


class _Folders:
    """Folders compared by what they are, each looked up once however many frames ask (a farm
    chunk of a long shot checks a few frames against thousands of inputs)."""

    def __init__(self):
        self._real: dict[Path, Path] = {}
        self._same: dict[tuple[Path, Path], bool] = {}

    def real(self, folder: Path) -> Path:
        """`folder` with its links resolved."""
        if folder not in self._real:
            self._real[folder] = _resolved(folder)
        return self._real[folder]

    def same(self, a: Path, b: Path) -> bool:
        """Whether two paths name one folder: the same path once links are resolved, or, where
        both exist, the same device and inode (a bind mount, or one NFS export mounted at two
        paths, reaches one folder by two paths that resolve apart)."""
        if (a, b) not in self._same:
            self._same[a, b] = self.real(a) == self.real(b) or _same_inode(a, b)
        return self._same[a, b]

    @staticmethod
    def file(path: Path) -> tuple[Path, str]:
        """The folder and name of the file `path` reaches: its own, or where it is a link itself,
        those of what the link leads to (one lstat for a path that is no link, not one per folder
        above it: its folder is compared by `same`)."""
        if os.path.islink(path):  # False where it cannot be looked at: refused later, saying why
            path = _resolved(path)
        return path.parent, path.name


def _resolved(path: Path) -> Path:
    """`path` with its links resolved; OutputError naming it where links loop (Python raises
    RuntimeError, or from 3.13 OSError, rather than say where)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise OutputError(f"{path} cannot be followed to a folder or file: its links loop ({exc}); "
                          "fix or remove the link, or use -o") from exc


def _same_inode(a: Path, b: Path) -> bool:
    """Whether two paths reach one file system object (device and inode)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet): not the other
        return False


def _over_inputs(in_pattern: FramePattern, out_pattern: FramePattern, on_disk: set[int],
                 inputs: dict[int, os.DirEntry], wanted: list[int], folders: _Folders) -> list[int]:
    """The frames of `wanted` whose output would replace an input frame's file (frames `on_disk`;
    `inputs`, their files from one listing): one whose file (`_Folders.file`: a link followed)
    lies in the inputs' folder, by whatever path (`_Folders.same`), under an input frame's name;
    or that is the file an input frame links to, whatever its number (a folder of links to the
    renders, retimed or not, given the renders' folder as -o). Each folder is compared once, and
    only the inputs that are links are resolved (`_linked_inputs`), not every input frame's path."""
    linked = _linked_inputs(inputs)
    clashes = []
    for frame in wanted:
        folder, name = folders.file(out_pattern.path(frame))
        if in_pattern.frame_of(name) in on_disk and folders.same(folder, in_pattern.directory):
            clashes.append(frame)
        elif any(folders.same(folder, target) for target in linked.get(name, ())):
            clashes.append(frame)
    return clashes


def _linked_inputs(inputs: dict[int, os.DirEntry]) -> dict[str, list[Path]]:
    """The files the input frames of `inputs` that are links lead to: name -> their folders. One
    listing of the inputs' folder tells the links apart without a stat per frame."""
    linked: dict[str, list[Path]] = {}
    for entry in inputs.values():
        if entry.is_symlink():
            target = _resolved(Path(entry.path))
            linked.setdefault(target.name, []).append(target.parent)
    return linked


def _check_not_read_as_inputs(in_pattern: FramePattern, out_pattern: FramePattern,
                              wanted: list[int]) -> None:
    """Refuse outputs in the inputs' folder that the input pattern reads as its frames: the input
    pattern itself, or one padded otherwise beside it (render.#####.exr names frame 10000 as
    render.####.exr does), whose files (a missing frame held under --missing hold) the next run
    would take as rendered."""
    read_as = [f for f in wanted if in_pattern.frame_of(out_pattern.name(f)) is not None]
    if read_as:
        raise OutputError(
            f"output pattern {out_pattern.typed} would write {format_frames(read_as)} as files the "
            f"input pattern {in_pattern.typed} reads as its frames; they would become inputs of the "
            "next run; choose another -o/--output")


def _check_name_length(out_pattern: FramePattern, wanted: list[int], folder: Path) -> None:
    """Refuse output names whose temp file (`atomic.temp_path_beside`) the file system would refuse
    only once a frame is denoised: the longest frame number, plus what the temp name adds (its
    leading dot and tail, TEMP_NAME_EXTRA). The limit is `folder`'s (the output folder, or the
    nearest one above it that exists)."""
    if not wanted:
        return
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    name = max((out_pattern.name(f) for f in (min(wanted), max(wanted))), key=len)  # widest number
    length = len(os.fsencode(name))
    if length + TEMP_NAME_EXTRA > limit:
        raise UsageError(
            f"output file name {name} is {length} bytes long; each frame is first written to a temp "
            f"file whose name is {TEMP_NAME_EXTRA} bytes longer, more than the {limit} bytes a file "
            f"name may have in {folder}; shorten the output name (-o) to at most "
            f"{limit - TEMP_NAME_EXTRA} bytes")


def is_complete(path: Path) -> bool:
    """True when `path` is an EXR whose every chunk decodes (what --resume may keep:
    `exr.check_decodes`). An output is written whole (temp file + rename), so one under its final
    name is damaged only where something else cut it short, copied it badly or overwrote bytes
    in its middle (a disk or network fault), and a check of its end chunks alone kept the last
    two; the cost is a decode of each (docs/denoising.md), on pool threads, as many at once as
    the run's host memory holds (`complete`)."""
    if not path.is_file():
        return False
    try:
        check_decodes(path)
    except ExrError as exc:
        warn(log, "%s: %s; it will be denoised again", path, exc.problem)
        return False
    return True


def decoded_bytes(header: Sequence[oiio.ImageSpec]) -> int:
    """The bytes `is_complete` holds decoding the output whose `header` (one spec per part) this
    is: every part's planes in their stored types (`exr.check_decodes` decodes as `read_exr`),
    over their data windows."""
    return sum(spec.width * spec.height * spec.channelformat(c).size()
               for spec in header for c in range(spec.nchannels))


def checks_at_once(headers: Sequence[Sequence[oiio.ImageSpec]], threads: int, budget: float | None) -> int:
    """How many outputs (`headers`: each one's, `decoded_bytes`) --resume's check decodes at once:
    one per thread of `threads`, but no more than `budget` bytes of host memory hold decodes of
    the largest (a 4K multi-layer output is gigabytes decoded), and at least one; `threads` where
    the budget is not known (None)."""
    if not headers:
        return 1
    if budget is None:
        return max(1, min(threads, len(headers)))
    largest = max(1, max(decoded_bytes(header) for header in headers))
    return max(1, min(threads, len(headers), int(budget // largest)))


def complete(paths: Sequence[Path], headers: Sequence[Sequence[oiio.ImageSpec]], threads: int,
             budget: float | None) -> list[bool]:
    """Whether each output of `paths` is whole (`is_complete`), decoded on pool threads as part
    of the calling run (its warnings the run's: `run_warnings.carried`), as many at once as
    `checks_at_once` lets `budget` bytes of host memory hold (`headers`: each output's, read
    already)."""
    at_once = checks_at_once(headers, threads, budget)
    log.debug("--resume: %d output(s) decoded to check them whole, %d at a time", len(paths), at_once)
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="exr-check") as pool:
        return list(pool.map(carried(is_complete), paths))
