"""What a run does with the outputs already where it writes (`existing`): refuse to start over them,
resume (keep what is finished, make the rest) or overwrite them. Named once for sequence runs
(`EngineConfig.existing`: output frames), farm jobs and hosts' requests (plugin/), and training runs
(`RenderRun.existing`, `loop.fit`: the checkpoint in --out). The flags users type are `--resume`
and `--overwrite`, turned into one of these once (`cli/options.existing_policy`). Only the standard
library: the plugin layer reads these in hosts without torch.
"""

from __future__ import annotations

from typing import Final

REFUSE: Final = "refuse"  # neither flag: stop at an output already there (seq) or a checkpoint (train)
RESUME: Final = "resume"  # --resume: keep finished outputs (seq) or continue from the checkpoint (train)
OVERWRITE: Final = "overwrite"  # --overwrite: replace them, or start the training run again
EXISTING = (REFUSE, RESUME, OVERWRITE)
