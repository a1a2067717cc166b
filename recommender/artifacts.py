"""Versioned model artifacts on disk, and picking up a new one without a restart.

One folder per version under the artifact folder (the web app's `RECO_ARTIFACT_DIR`):

    <folder>/<version>/arrays.npz   numbers only (numpy, loaded with allow_pickle=False)
    <folder>/<version>/model.json   version, data window, parameters, metrics, item keys …
    <folder>/CURRENT                the newest version's name (replaced atomically)

Nothing is pickled, so loading an artifact cannot run code. `save` writes the version folder
first and CURRENT last (os.replace), so a reader sees the old model or the new one, never half
of one; it keeps the newest `keep` versions. `load` reads what CURRENT names (or the newest
folder if CURRENT is missing). `ArtifactStore` is what a long-running web worker holds: its
`current()` looks at CURRENT's modification time at most every `check_seconds` and loads a
newer model when there is one.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from recommender.catalogue import Vocabulary
from recommender.model import FEATURES, Components, ItemSide, Params, Ranker
from recommender.train import Model

FORMAT = 1
CURRENT = "CURRENT"
ARRAYS, META = "arrays.npz", "model.json"
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")
_SIDE = ("interests", "text", "in_window", "window_fit", "consumable", "size_ladder",
         "size_rank", "size_min", "size_max", "price")


class ArtifactError(Exception):
    """An artifact that cannot be read (missing files, another format, damaged arrays)."""


def _arrays(model: Model) -> dict[str, np.ndarray]:
    arrays = {f"c_{name}": value for name, value in model.components.arrays().items()}
    arrays.update({f"s_{name}": getattr(model.side, name) for name in _SIDE
                   if getattr(model.side, name) is not None})
    arrays.update(item_ids=model.item_ids, idf=model.vocabulary.idf,
                  r_coef=model.ranker.coef, r_mean=model.ranker.mean,
                  r_scale=model.ranker.scale)
    return arrays


def save(model: Model, folder: Path, keep: int = 5) -> Path:
    """Write `model` as a new version folder and make it CURRENT; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **_arrays(model))  # type: ignore[arg-type]
    data = buffer.getvalue()
    if not _VERSION.match(model.version):
        raise ArtifactError(f"bad version name {model.version!r}")
    version = f"{model.version}-{hashlib.sha256(data).hexdigest()[:8]}"[:40]
    model.version = version
    meta = {
        "format": FORMAT, "version": version, "created_at": model.created_at.isoformat(),
        "window": {"from": model.window_from.isoformat(), "to": model.window_to.isoformat()},
        "params": model.params.to_dict(), "metrics": model.metrics,
        "features": list(FEATURES), "ranker_source": model.ranker.source,
        "item_keys": model.item_keys, "terms": list(model.vocabulary.terms),
        "price_centre": model.price_centre, "n_items": model.n_items,
    }
    staging = Path(tempfile.mkdtemp(prefix=".new-", dir=folder))
    (staging / ARRAYS).write_bytes(data)
    (staging / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1))
    target = folder / version
    if target.exists():
        shutil.rmtree(target)
    os.replace(staging, target)
    pointer = folder / f".{CURRENT}.tmp"
    pointer.write_text(version + "\n")
    os.replace(pointer, folder / CURRENT)
    _prune(folder, keep, version)
    return target


def _prune(folder: Path, keep: int, current: str) -> None:
    versions = sorted((p for p in folder.iterdir() if p.is_dir() and _VERSION.match(p.name)),
                      key=lambda p: p.name, reverse=True)
    for old in versions[keep:]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def current_version(folder: Path) -> str | None:
    """The version CURRENT names (or the newest folder's); None without any."""
    try:
        name = (folder / CURRENT).read_text().strip()
        if _VERSION.match(name) and (folder / name / META).exists():
            return name
    except (FileNotFoundError, NotADirectoryError):
        pass
    if not folder.is_dir():
        return None
    versions = sorted(p.name for p in folder.iterdir()
                      if p.is_dir() and _VERSION.match(p.name) and (p / META).exists())
    return versions[-1] if versions else None


def load(folder: Path, version: str | None = None) -> Model | None:
    """The named (default: current) model; None when the folder has none."""
    name = version or current_version(folder)
    if name is None:
        return None
    if not _VERSION.match(name):
        raise ArtifactError(f"bad version name {name!r}")
    try:
        meta = json.loads((folder / name / META).read_text())
        with np.load(folder / name / ARRAYS, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, KeyError) as error:
        raise ArtifactError(f"artifact {name} cannot be read: {error}") from error
    if meta.get("format") != FORMAT or meta.get("features") != list(FEATURES):
        raise ArtifactError(f"artifact {name} is of another format or feature set")
    return _model(meta, arrays)


def _model(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Model:
    components = Components(**{name: arrays[f"c_{name}"] for name in Components.ARRAYS})
    n = len(arrays["item_ids"])
    side = ItemSide(n, **{name: arrays.get(f"s_{name}") for name in _SIDE})
    vocabulary = Vocabulary({t: n for n, t in enumerate(meta["terms"])}, arrays["idf"])
    ranker = Ranker(arrays["r_coef"], arrays["r_mean"], arrays["r_scale"],
                    meta["ranker_source"])
    return Model(
        version=meta["version"], created_at=datetime.fromisoformat(meta["created_at"]),
        window_from=datetime.fromisoformat(meta["window"]["from"]),
        window_to=datetime.fromisoformat(meta["window"]["to"]),
        params=Params(**meta["params"]), item_ids=arrays["item_ids"],
        item_keys=list(meta["item_keys"]), side=side, components=components,
        vocabulary=vocabulary, ranker=ranker, price_centre=float(meta["price_centre"]),
        metrics=meta["metrics"])


class ArtifactStore:
    """The current model for a long-running process: checks CURRENT's modification time at
    most every `check_seconds` (a stat, not a read) and loads a new version when it changed.
    A damaged new artifact is logged by the caller's `on_error` and the old model kept."""

    def __init__(self, folder: Path, check_seconds: float = 30.0,
                 timer: Callable[[], float] = time.monotonic,
                 on_error: Callable[[Exception], None] | None = None) -> None:
        self.folder = Path(folder)
        self.check_seconds = check_seconds
        self._timer = timer
        self._on_error = on_error
        self._lock = threading.Lock()
        self._model: Model | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked: float | None = None

    def current(self) -> Model | None:
        now = self._timer()
        if self._checked is not None and now - self._checked < self.check_seconds:
            return self._model
        with self._lock:
            if self._checked is None or now - self._checked >= self.check_seconds:
                self._refresh()
                self._checked = now
        return self._model

    def _refresh(self) -> None:
        try:
            stat = (self.folder / CURRENT).stat()  # a new CURRENT is a new file (os.replace)
            stamp: tuple[int, int, int] | None = (stat.st_mtime_ns, stat.st_ino, stat.st_size)
        except OSError:
            stamp = None
        if stamp == self._stamp and (self._model is not None or stamp is None):
            return
        try:
            model = load(self.folder)
        except ArtifactError as error:
            if self._on_error:
                self._on_error(error)
            return
        self._model, self._stamp = model, stamp


# --- the latest offline evaluation, beside the models -------------------------------------------

EVALUATIONS = "evaluations"


def save_evaluation(folder: Path, result: dict[str, Any], at: datetime) -> Path:
    """Keep `flask reco evaluate`'s result (one file per data set, the newest wins) for the
    analyst page; written whole, then renamed, so a reader never sees half of it."""
    dataset = str(result.get("dataset", "unknown"))
    if not dataset.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"not a data set name: {dataset!r}")
    target = folder / EVALUATIONS
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{dataset}.json"
    staging = target / f".{dataset}.json.tmp"
    staging.write_text(json.dumps({"at": at.isoformat(), **result}, ensure_ascii=False))
    staging.replace(path)
    return path


def latest_evaluations(folder: Path) -> list[dict[str, Any]]:
    """Every data set's latest evaluation, newest first (unreadable files are skipped)."""
    found = []
    for path in sorted((folder / EVALUATIONS).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            found.append(data)
    return sorted(found, key=lambda d: str(d.get("at", "")), reverse=True)
