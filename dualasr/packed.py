"""Packed models: one zip that holds everything needed to recognise audio with a trained model.

``pack()`` (stage 13, ``python -m dualasr.bin.pack_model``) writes::

    meta.yaml           ESPnet's pack format (files, yaml_files), plus a ``dualasr`` block
    config.yaml         the training config; every file it needs is rewritten to a member name
    model.pth           the (averaged) weights
    decode.yaml         the decode settings stage 8 used
    features.yaml       sample rate, fbank settings (dualasr.bin.make_fbank.fbank_conf of the config's input_size), language,
                        whether Korean tokens are jamo (decompose_hangul)
    <key>/<file>        each file the config points at: CMVN stats (``normalize_conf.stats_file/cmvn.npz``),
                        sentencepiece models (``bpemodel_surface/bpe.model``), token lists given as paths

Paths inside the archive are relative to the archive. ``load()`` unpacks it with ESPnet's
``unpack`` (which rewrites the yaml files' member names to absolute paths) into a cache directory
keyed by the archive's hash (``$DUALASR_CACHE``, default ``~/.cache/dualasr``), so it loads in any
directory on any machine.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

FORMAT_VERSION = 1


def _config_files(conf: Dict[str, Any]) -> List[Tuple[Tuple[str, ...], str]]:
    """(key path, value) of each config entry that names a file inference needs: token lists and
    sentencepiece models (``token_list*``, ``bpemodel*``) and any string inside a ``*_conf`` block
    (the CMVN stats file, a frontend's files). Training data and shape files are not needed."""
    found = []
    for k, v in conf.items():
        if (k.startswith("token_list") or k.startswith("bpemodel")) and isinstance(v, str):
            found.append(((k,), v))
        elif k.endswith("_conf") and isinstance(v, dict):
            for k2, v2 in v.items():
                if isinstance(v2, str) and ("/" in v2 or "." in v2):
                    found.append(((k, k2), v2))
    return found


def find_config_file(value: str, config: Path) -> Optional[Path]:
    """A path from the config: absolute, or relative to the current directory (the recipe dir, as
    older recipe runs wrote it), or relative to the model dir; None when no such file exists."""
    p = Path(value)
    for cand in ([p] if p.is_absolute() else [Path.cwd() / p, config.parent / p]):
        if cand.is_file():
            return cand
    return None


def _resolve(value: str, config: Path, key: str) -> Path:
    found = find_config_file(value, config)
    if found is None:
        raise SystemExit(f"{config}: {key}: {value!r} is not a file (looked in {Path.cwd()} and {config.parent})")
    return found


def pack(config: Path, model_file: Path, out: Path, *, lang: str, fs: int,
         inference_config: Path | None = None) -> Path:
    """Write the archive ``out`` (atomically: a temporary name, then a rename)."""
    from dualasr.bin.make_fbank import fbank_conf

    config, model_file = Path(config), Path(model_file)
    conf = yaml.safe_load(config.read_text(encoding="utf-8"))
    members: Dict[str, Path] = {"model.pth": model_file}
    for keys, value in _config_files(conf):
        dotted = ".".join(keys)
        if keys[-1] in ("stats_file",) or keys[0].startswith(("token_list", "bpemodel")):
            src = _resolve(value, config, dotted)
        else:  # a string in a *_conf block that is not a file (e.g. a window name): leave it
            try:
                src = _resolve(value, config, dotted)
            except SystemExit:
                continue
        name = f"{dotted}/{src.name}"
        members[name] = src
        d = conf
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = name
    decode = {}
    if inference_config is not None:
        decode = yaml.safe_load(Path(inference_config).read_text(encoding="utf-8")) or {}
    if not isinstance(conf.get("input_size"), int):
        raise SystemExit(f"{config}: input_size {conf.get('input_size')!r}: a packed model needs the fbank dimension")
    features = {"fs": int(fs), "fbank": fbank_conf(conf["input_size"]), "lang": lang,
                "decompose_hangul": bool(conf.get("decompose_hangul", False))}
    meta = {
        "files": {"model_file": "model.pth"},
        "yaml_files": {"config": "config.yaml", "inference_config": "decode.yaml", "features": "features.yaml"},
        "dualasr": {"format": FORMAT_VERSION, "name": out.stem, "lang": lang, "outputs":
                    [o for o in ("surface", "meaning") if conf.get(f"token_list_{o}") is not None]},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")  # a zip, not text: dualasr.files.write_atomic writes text
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, obj in (("meta.yaml", meta), ("config.yaml", conf), ("decode.yaml", decode),
                          ("features.yaml", features)):
            z.writestr(name, yaml.safe_dump(obj, allow_unicode=True, sort_keys=False))
        for name, src in members.items():
            z.write(src, name)
    tmp.replace(out)
    return out


@dataclass
class Packed:
    """An unpacked archive: absolute paths and the settings it records."""

    config: str
    model_file: str
    decode: Dict[str, Any]
    features: Dict[str, Any]
    meta: Dict[str, Any]


def load(archive: str | os.PathLike) -> Packed:
    """Unpack ``archive`` once into the cache and return where its parts are."""
    from espnet2.main_funcs.pack_funcs import unpack

    archive = Path(archive)
    if not archive.is_file():
        raise FileNotFoundError(f"{archive}: no such model archive")
    h = hashlib.sha256()
    with open(archive, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    cache = Path(os.environ.get("DUALASR_CACHE") or Path.home() / ".cache" / "dualasr")
    dest = cache / f"{archive.stem}-{h.hexdigest()[:16]}"
    if not (dest / "meta.yaml").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{archive.stem}.", dir=cache))
        try:
            with zipfile.ZipFile(archive) as z:
                if "meta.yaml" not in z.namelist():
                    raise SystemExit(f"{archive}: not a packed dualasr model (no meta.yaml)")
            # ESPnet's unpack rewrites member names in the yaml files to paths under tmp, so the
            # extracted dir is renamed only after the yaml files are rewritten for its final place.
            unpack(archive, tmp, use_cache=False)
            for name in ("config.yaml", "decode.yaml", "features.yaml"):
                p = tmp / name
                p.write_text(p.read_text(encoding="utf-8").replace(str(tmp), str(dest)), encoding="utf-8")
            try:
                tmp.rename(dest)
            except OSError:  # another process unpacked it first
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    read = lambda n: yaml.safe_load((dest / n).read_text(encoding="utf-8")) or {}  # noqa: E731
    return Packed(config=str(dest / "config.yaml"), model_file=str(dest / "model.pth"),
                  decode=read("decode.yaml"), features=read("features.yaml"), meta=read("meta.yaml"))


def read_member(archive: str | os.PathLike, name: str) -> Any:
    """One yaml member of an archive, without unpacking it (e.g. ``features.yaml``)."""
    with zipfile.ZipFile(archive) as z:
        return yaml.safe_load(io.TextIOWrapper(z.open(name), encoding="utf-8"))
