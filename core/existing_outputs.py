"""What a run does with the outputs already where it writes (`existing`): refuse to start over them,
resume (keep what is finished, make the rest) or overwrite them. Named once for sequence runs
(`EngineConfig.existing`: output frames), farm jobs and hosts' requests (plugin/), and training runs
(`RenderRun.existing`, `loop.fit`: the checkpoint in --out). The flags users type are `--resume`
and `--overwrite`, turned into one of these once (`cli/options.existing_policy`); hosts' requests
name one as their `existing` argument. A sequence run's refusal at an output already there says
how to choose in the CLI's words (`how_to_choose`), which a host's request is told in its own
(`in_request_words`). Only the standard library: the plugin layer reads these in hosts without torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

REFUSE: Final = "refuse"  # neither flag: stop at an output already there (seq) or a checkpoint (train)
RESUME: Final = "resume"  # --resume: keep finished outputs (seq) or continue from the checkpoint (train)
OVERWRITE: Final = "overwrite"  # --overwrite: replace them, or start the training run again
EXISTING = (REFUSE, RESUME, OVERWRITE)

# How each way in names the policies a user may choose: seq's flags, a host's `DenoiseRequest`'s
# `existing` argument (plugin/request.py).
FLAGS: Final = {RESUME: "--resume", OVERWRITE: "--overwrite"}
REQUEST_ARGUMENTS: Final = {RESUME: "existing='resume'", OVERWRITE: "existing='overwrite'"}


def how_to_choose(names: Mapping[str, str] = FLAGS) -> str:
    """What a sequence run refused at an output frame already there (policy refuse) tells its user
    to pass, in `names`' words (`FLAGS`, `REQUEST_ARGUMENTS`)."""
    return f"pass {names[RESUME]} to keep finished frames or {names[OVERWRITE]} to replace them"


def in_request_words(message: str) -> str:
    """A sequence run's error `message` as a host's request says it: the choice it offers
    (`how_to_choose`) as the request's `existing` argument, not as seq's flags, which a caller of
    the Python API does not have. Any other message is as it was."""
    return message.replace(how_to_choose(FLAGS), how_to_choose(REQUEST_ARGUMENTS))
