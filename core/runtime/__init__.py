"""What the machine a run is on offers, and how a run uses it: the device and its precision, CPUs,
host memory (cgroup limits), glibc's freed memory, signals held off, Triton for the fused kernels."""
