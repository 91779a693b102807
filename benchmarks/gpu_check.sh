#!/usr/bin/env bash
# Every check that needs a CUDA GPU, as one prepared call of a lent machine (the `device` tool),
# whose time is short (15 minutes a session, the machine's start included).
#
#   python3 benchmarks/gpu_wheels.py   # here: the packages the GPU image lacks, into .whl/
#   (python3 benchmarks/gpu_wheels.py --set-aside, if it says the call would be over 64 MiB)
#   bash benchmarks/gpu_check.sh       # there: device run, carry [".whl"], timeout_s 600
#   (python3 benchmarks/gpu_wheels.py --restore, right after)
#
# There, where they are missing, it installs .whl/ into /tmp/site and puts this checkout on the
# path as the `vfxdenoise` package (as pyproject's package-dir maps it; nothing to build). It runs,
# each step under its own time limit, logging to $OUT/<step>.log: the tests that skip without
# CUDA (fused output and input kernels, CUDA against CPU with --aov layers, test_denoiser's
# --max-gpu-mem tiles from host memory and failed-pixel count read once copied back), the demo
# on CUDA, and benchmarks/speed.py for `default` (1080p and 4K against OIDN, the input's fused
# kernel against its PyTorch path, 2 light-group layers, 8K in a 4 GB budget, end to end at
# 1080p; end to end again writing zstd) and `fast`. A failing step does not stop the later ones;
# the exit status says if any failed.
# STEPS="tests demo" runs a subset; DEVICE=cpu SIZES=320x180 E2E_FRAMES=4 REPEATS=2 tries the
# script on a machine without a GPU (BUDGET= skips the 8K check: CUDA only); SPEED_ARGS=--profile adds
# options to step speed (--profile: operator dispatches, host waits, kernel launches). The
# steps' limits add up to 560 s, inside one call's 600.
set -uo pipefail
cd "$(dirname "$0")/.."

WHEELS=.whl

setup() {
    PYTHON=${PYTHON:-python3}
    [ -x .venv/bin/python ] && PYTHON=.venv/bin/python
    if ! "$PYTHON" -c "import OpenImageIO, OpenEXR, fileseq, pyoidn" 2>/dev/null; then
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site "$WHEELS"/*.whl || exit 1
        export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
    fi
    if ! "$PYTHON" -c "import vfxdenoise.core" 2>/dev/null; then
        mkdir -p /tmp/pkg/vfxdenoise
        cp src/vfxdenoise/__init__.py /tmp/pkg/vfxdenoise/
        for part in core cli plugin; do ln -sfn "$PWD/$part" "/tmp/pkg/vfxdenoise/$part"; done
        export PYTHONPATH="/tmp/pkg${PYTHONPATH:+:$PYTHONPATH}"
    fi
    export PYTHONUNBUFFERED=1
    OUT=${OUT:-out/gpu-check}
    mkdir -p "$OUT"
}

FAILED=()
step() {  # step NAME SECONDS COMMAND...: run it unless STEPS leaves it out, log to $OUT/NAME.log
    local name=$1 seconds=$2; shift 2
    [ -n "${STEPS:-}" ] && [[ " $STEPS " != *" $name "* ]] && return
    echo "== $name ($(date -u +%T), at most ${seconds}s): $*"
    timeout "$seconds" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$OUT/$name.log"
    [ $rc = 0 ] || { FAILED+=("$name (exit $rc)"); echo "!! $name failed: exit $rc"; }
}

setup
DEVICE=${DEVICE:-cuda}
SIZES=${SIZES:-1920x1080,3840x2160}
REPEATS=${REPEATS:-20}
E2E_FRAMES=${E2E_FRAMES:-64}
BUDGET=${BUDGET-7680x4320:4}
VFXDENOISE=("$PYTHON" -c "from vfxdenoise.cli.main import main; main()")

step machine 20 bash -c "nvidia-smi -L || echo 'no nvidia-smi'; $PYTHON -c 'import torch; print(torch.__version__, torch.cuda.is_available())'"
DENOISER=tests/core/test_denoiser.py
step tests 130 "$PYTHON" -m pytest -q -rs -p no:cacheprovider \
    tests/core/models/test_fused_output.py tests/core/test_fused_input.py \
    tests/core/test_engine.py::test_cuda_output_matches_the_cpu_with_aov_layers \
    $DENOISER::test_a_gpu_memory_budget_keeps_the_input_in_host_memory_and_tiles_it_onto_the_gpu \
    $DENOISER::test_a_gpu_memory_budget_tiles_from_host_memory_as_the_whole_frame_runs \
    $DENOISER::test_a_gpu_memory_budget_converts_an_input_in_host_memory_tile_by_tile \
    $DENOISER::test_the_failed_pixels_are_read_once_their_copy_from_the_gpu_has_landed \
    $DENOISER::test_a_frame_on_the_networks_thread_runs_on_the_denoisers_device
step demo 60 "${VFXDENOISE[@]}" demo --device "$DEVICE" --out "$(mktemp -d)"
step speed 200 "$PYTHON" benchmarks/speed.py --device "$DEVICE" --sizes "$SIZES" --repeats "$REPEATS" \
    --aovs 2 ${BUDGET:+--budget "$BUDGET"} --e2e-frames "$E2E_FRAMES" --io-threads "$(nproc)" ${SPEED_ARGS:-}
step e2e-zstd 90 "$PYTHON" benchmarks/speed.py --device "$DEVICE" --sizes 320x180 --repeats 2 \
    --e2e-frames "$E2E_FRAMES" --io-threads "$(nproc)" --compression zstd
step speed-fast 60 "$PYTHON" benchmarks/speed.py --model fast --device "$DEVICE" --sizes "$SIZES" \
    --repeats "$REPEATS" --e2e-frames 0

echo "== done $(date -u +%T); failed: ${FAILED[*]:-none}"
[ ${#FAILED[@]} = 0 ]
