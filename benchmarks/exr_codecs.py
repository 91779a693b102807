"""What each output compression `seq --compression` offers costs to write and read, on this machine.

    python benchmarks/exr_codecs.py [--frame render.1001.exr] [--repeats 5] [--manifest KB]

Each compression writes the frame through OpenEXR and reads it back on one thread (medians); zip
is the baseline of the ratios. Then the frame itself as `seq` reads, maps and writes it. The frame
is --frame (scanline or tiled: `oiiotool render.1001.exr --tile 64 64 -o tiled.exr` makes a tiled
copy), or the one benchmarks/speed.py runs end to end: the bundled sample render repeated to
1920x1080 with all 13 channels (half beauty, albedo, normal, alpha; float depth and motion), whose
sizes are of a repeating picture (zip finds the repeats): compare its times, and take sizes from a
whole render. --manifest adds a Cryptomatte manifest of that many KB to the frame's header, as a
shot of many objects carries (BENCHMARKS.md: one of 888 KB once cost `seq` ~34 s a frame).
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("--manifest", type=int, default=0, metavar="KB",
                        help="a Cryptomatte manifest of this size added to the frame's header")
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
        if args.manifest:
            header.update(_cryptomatte(args.manifest))
            frame = folder / "manifest.0001.exr"
            OpenEXR.File(header, planes).write(str(frame))
            described += f", a {args.manifest} KB Cryptomatte manifest"
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


def _cryptomatte(kb: int) -> dict[str, str]:
    """Cryptomatte header attributes with a manifest (object name -> hash, JSON) of about `kb` KB."""
    count = kb * 1000 // 37  # of 37 bytes each in JSON
    names = {f"/obj/geo_{i:06d}/shape": f"{(i * 2654435761) & 0xFFFFFFFF:08x}" for i in range(count)}
    return {"cryptomatte/abcdef0/name": "CryptoObject", "cryptomatte/abcdef0/hash": "MurmurHash3_32",
            "cryptomatte/abcdef0/manifest": json.dumps(names)}


if __name__ == "__main__":
    main()
