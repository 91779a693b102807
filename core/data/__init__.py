"""Mitsuba 3 training/sample data generator (optional extra `data`): procedural animated scenes,
noisy renders with AOVs and motion vectors, references, and a resumable dataset driver."""
