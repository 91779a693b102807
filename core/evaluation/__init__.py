"""Scoring denoised frames against references: the metrics, the sequence scorer shared by train's
validation, eval and the demo, and the baselines we measure against (OIDN)."""
