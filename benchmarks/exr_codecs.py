"""What each output compression `seq --compression` offers costs to write and read, on this machine.

    python benchmarks/exr_codecs.py [--frame render.1001.exr] [--repeats 5]

Each compression writes the frame through OpenEXR and reads it back on one thread (medians); zip
is the baseline of the ratios. Then the frame itself as `seq` reads, maps and writes it. The frame
is --frame (scanline or tiled: `oiiotool render.1001.exr --tile 64 64 -o tiled.exr` makes a tiled
copy), or the one benchmarks/speed.py runs end to end: the bundled sample render repeated to
1920x1080 with all 13 channels (half beauty, albedo, normal, alpha; float depth and motion), whose
sizes are of a repeating picture (zip finds the repeats): compare its times, and take sizes from a
whole render.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import OpenEXR
from speed import _codec_stages, _median_ms, _write_sequence

from vfxdenoise.core.io.exr import OUTPUT_COMPRESSIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frame", type=Path,
                        help="a single-part scanline or tiled EXR [default: tiled sample]")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        frame = args.frame or folder / "in.0001.exr"
        described = str(args.frame) if args.frame else f"tiled sample, {_write_sequence(folder, 1)}"
        with OpenEXR.File(str(frame), separate_channels=True) as exr:
            header = {k: v for k, v in exr.header().items() if k not in ("channels", "chunkCount")}
            planes = {name: channel.pixels.copy() for name, channel in exr.channels().items()}
            size = f"{header['dataWindow'][1][0] - header['dataWindow'][0][0] + 1}x" \
                   f"{header['dataWindow'][1][1] - header['dataWindow'][0][1] + 1}"
        rows = {}
        for name, compression in OUTPUT_COMPRESSIONS.items():
            path = folder / f"{name}.exr"
            exr = OpenEXR.File({**header, "compression": compression}, planes)

            def read(path=path):
                with OpenEXR.File(str(path), separate_channels=True) as done:
                    return [channel.pixels for channel in done.channels().values()]

            write_ms = _median_ms(lambda exr=exr, path=path: exr.write(str(path)), args.repeats)
            rows[name] = (write_ms, _median_ms(read, args.repeats), path.stat().st_size / 2**20)
        stages = _codec_stages(frame, folder / "stage.exr", None, args.repeats)
    base_write, base_read, base_size = rows["zip"]
    print(f"{size}, {len(planes)} channels, {described}; one thread, medians of {args.repeats}\n")
    print("| compression | write ms | read ms | MiB | write / zip | read / zip | size / zip |")
    print("|---|---|---|---|---|---|---|")
    for name, (write_ms, read_ms, size) in rows.items():
        print(f"| {name} | {write_ms:.0f} | {read_ms:.0f} | {size:.2f} | {write_ms / base_write:.2f} | "
              f"{read_ms / base_read:.2f} | {size / base_size:.2f} |")
    print(f"\nthe frame as `seq` reads, maps and writes it (its own compression and layout): {stages}")


if __name__ == "__main__":
    main()
