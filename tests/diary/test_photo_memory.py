"""The security finding's bound: any accepted upload raises a worker's memory by < 300 MB.

The largest accepted file of each kind (at the caps of diary/photos.py, so the test follows
them) is processed in a fresh Python process, which reports its peak resident memory
(`ru_maxrss`) before processing (after imports and reading the file) and after. HEIC files
are slow to encode, so they are kept in tests/diary/data (regenerate them with
`python -m tests.diary.test_photo_memory` after changing the caps).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from diary import photos
from diary.photos import Header

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).with_name("data")
BOUND_MB = 300  # what one accepted upload may add to a worker (the finding's requirement)
ESTIMATE_SLACK_MB = 40  # decode_cost leaves out the interpreter's and encoder's small change
ASPECT = (4000, 3000)  # a photo's shape; the caps are in pixels, so any shape will do

_420, _444, _CMYK = ((2, 2), (1, 1), (1, 1)), ((1, 1),) * 3, ((1, 1),) * 4
#: name: the header whose largest accepted size is made, and how the file is saved
GENERATED = {
    "jpeg-420-progressive": (Header("JPEG", ASPECT, "RGB", _420),
                             {"progressive": True, "quality": 95}),
    "jpeg-444-progressive": (Header("JPEG", ASPECT, "RGB", _444),
                             {"progressive": True, "quality": 95, "subsampling": 0}),
    "jpeg-cmyk-progressive": (Header("JPEG", ASPECT, "CMYK", _CMYK),
                              {"progressive": True, "quality": 95}),
    "png-rgba": (Header("PNG", ASPECT, "RGBA"), {}),
    "webp-rgba-lossless": (Header("WEBP", ASPECT, "RGBA"), {"lossless": True}),
    "webp-rgb-lossy": (Header("WEBP", ASPECT, "RGB"), {"quality": 90}),
}
#: name: the header of the kept file and whether it must be the largest accepted
KEPT = {
    "largest-heic-8bit-rgba": (Header("HEIF", ASPECT, "RGBA", bit_depth=8), True),
    "largest-heic-10bit-rgba": (Header("HEIF", ASPECT, "RGBA", bit_depth=10), True),
    "iphone-24mp-tiled": (Header("HEIF", (5712, 4284)), False),
}

MAKE = r"""
import io, json, sys
from PIL import Image
from tests.images import streamed_png
for path, fmt, mode, width, height, save in json.loads(sys.argv[1]):
    if fmt == "PNG":
        data = streamed_png((width, height), mode, value=0x60)
    else:
        color = {"RGB": (200, 120, 90), "RGBA": (200, 120, 90, 128), "CMYK": (0, 80, 200, 10)}
        out = io.BytesIO()
        Image.new(mode, (width, height), color[mode]).save(out, format=fmt, **save)
        data = out.getvalue()
    open(path, "wb").write(data)
"""

MEASURE = r"""
import io, json, resource, sys
from PIL import Image
from diary import photos
data = open(sys.argv[1], "rb").read()
with Image.open(io.BytesIO(data)) as image:
    header = photos.Header.of(image)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
processed = photos.process_upload(data)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
unit = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
print(json.dumps({"before": before * unit, "grew": (after - before) * unit,
                  "cost": photos.decode_cost(header),
                  "size": header.size, "out": [processed.width, processed.height]}))
"""


#: Linux starts a new process's ru_maxrss at the resident size of the process it was spawned
#: from (pytest's, a few hundred MB), which would hide growth below it: so the measuring
#: process is spawned by a small Python process in between.
LAUNCH = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def _python(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", LAUNCH, sys.executable, "-c", script, *args],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("largest")
    jobs, paths = [], {}
    for name, (header, save) in GENERATED.items():
        width, height = photos.largest_accepted(header)
        paths[name] = folder / f"{name}.{header.format.lower()}"
        jobs.append([str(paths[name]), header.format, header.mode, width, height, save])
    _python(MAKE, json.dumps(jobs))  # in its own process: a 50 MP picture takes 200 MB
    if photos.HEIF_SUPPORTED:
        paths.update({name: DATA / f"{name}.heic" for name in KEPT})
    return paths


@pytest.fixture(scope="module")
def measured(files) -> dict[str, dict]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda path: json.loads(_python(MEASURE, str(path))),
                           files.values())
        return dict(zip(files, results, strict=True))


def test_generated_files_are_the_largest_accepted(files):
    from PIL import Image
    for name, (header, _) in GENERATED.items():
        with Image.open(files[name]) as image:
            found = Header.of(image)
        assert found.size == photos.largest_accepted(header), name
        assert found.mode == header.mode, name
        assert found.sampling == header.sampling or header.format != "JPEG", name
        assert not photos.accepted(found.resized((found.size[0] + 4, found.size[1] + 3)))


@pytest.mark.skipif(not photos.HEIF_SUPPORTED, reason="pillow-heif not available")
def test_kept_heic_files_are_the_largest_accepted(files):
    from PIL import Image
    for name, (header, largest) in KEPT.items():
        with Image.open(files[name]) as image:
            found = Header.of(image)
        assert found.bit_depth == header.bit_depth and found.mode == header.mode, name
        if largest:
            assert found.size == photos.largest_accepted(header), (
                f"{name} is not at the caps any more: run python -m tests.diary.test_photo_memory")
        assert photos.accepted(found)


def test_every_accepted_upload_adds_less_than_300_mb(measured):
    report = {name: (round(m["grew"] / 2**20), round(m["cost"] / 2**20))
              for name, m in measured.items()}  # MiB measured, MiB estimated
    print(report)
    for name, m in measured.items():
        assert m["before"] < 100 * 2**20, name  # its own start, not its parent's size
        assert max(m["out"]) == photos.FULL_SIZE, name  # accepted and processed
        assert m["grew"] < BOUND_MB * 2**20, report
        # The estimate the caps rest on must not fall behind what the decoders really take.
        assert m["grew"] <= m["cost"] + ESTIMATE_SLACK_MB * 2**20, (name, report)


def _make_kept_heic() -> None:  # pragma: no cover - run by hand when the caps change
    import pillow_heif
    from PIL import Image
    for name, (header, largest) in KEPT.items():
        if not largest:
            continue
        width, height = photos.largest_accepted(header)
        if header.bit_depth > 8:
            pixels = b"\x00\x80" * (width * height * 4)
            pillow_heif.from_bytes(mode="RGBA;16", size=(width, height), data=pixels).save(
                DATA / f"{name}.heic", quality=10)
        else:
            Image.new("RGBA", (width, height), (200, 120, 90, 128)).save(
                DATA / f"{name}.heic", format="HEIF", quality=10)
        print(name, width, height)


if __name__ == "__main__":  # pragma: no cover
    _make_kept_heic()
