"""Media renders made once per distinct input in a test run, and copied after.

A job through the pipeline renders ten slides (Pillow, the offline image vendor), ten Ken
Burns clips (ffmpeg, the offline clip vendor), prepares ten segments (ffmpeg, the clip
stage: sized, captioned, faded, encoded) and masters its soundtrack (ffmpeg: measured, mixed,
limited, encoded to AAC and measured again): about 32 s of CPU, of which the vendors' part is
half. A test run makes about fifteen such jobs, mostly of one topic, so mostly of the same
inputs. Each of those four functions is deterministic in its arguments, so:

- the first call with given arguments in a run runs the real function;
- a later call with the same arguments (every argument, the full bytes of the input file and
  of any other file an option names, after defaults are applied) gets a copy of what that
  first call returned or wrote: the same bytes the real function would produce again.

So every test still sees real media made by the project's own code, and every distinct input
is still rendered by it in each run. What is not repeated is the identical ffmpeg command on
identical input. `tests/unit/test_media.py` tests the renders themselves and turns the cache
off (its `real_renders` fixture).

The cache lives in the run's temporary folder, shared by the pytest-xdist workers; a lock per
input makes a second worker wait for the first one's render instead of repeating it. Nothing
outlives the run, so a change to a render function is always rendered afresh."""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps
from pathlib import Path


@contextmanager
def _once(folder: Path, key: str):
    """Yield the cache entry's path under a lock held by one process (and thread) at a time."""
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield folder / key


def _file(value: object) -> Path | None:
    """The file an option names (a path, e.g. master_audio's music bed), else None."""
    if not isinstance(value, (str, Path)) or "\n" in str(value) or len(str(value)) > 4096:
        return None
    try:
        path = Path(value)
        return path if path.is_file() else None  # absolute or relative (a local MUSIC_PATH)
    except OSError:  # not a name a file could have
        return None


def _key(function: Callable, arguments: dict) -> str:
    digest = hashlib.sha256(f"{function.__module__}.{function.__qualname__}".encode())
    for name, value in arguments.items():
        digest.update(f"\0{name}=".encode())
        file = Path(value) if name == "<file>" else _file(value)
        digest.update(file.read_bytes() if file is not None else repr(value).encode())
    return digest.hexdigest()


def file_render(render: Callable[..., Path], folder: Path) -> Callable[..., Path]:
    """For `render(source, out, **options) -> out`: keyed on the source's bytes and the options.
    A method, `render(self, source, out, **options)` (media.FFmpeg's), is keyed on its
    instance's attributes too (which ffmpeg it runs)."""
    signature = inspect.signature(render)
    names = list(signature.parameters)
    method = names[0] == "self"
    source_name, out_name = names[1:3] if method else names[:2]
    folder.mkdir(parents=True, exist_ok=True)

    @wraps(render)
    def cached(*args, **kwargs) -> Path:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        options = {k: v for k, v in bound.arguments.items() if k not in ("self", source_name, out_name)}
        if method:
            options["<self>"] = sorted(vars(bound.arguments["self"]).items())
        out = Path(bound.arguments[out_name])
        with _once(folder, _key(render, {"<file>": bound.arguments[source_name], **options})) as entry:
            if not entry.exists():
                fd, part = tempfile.mkstemp(suffix=out.suffix, dir=folder)
                os.close(fd)
                try:
                    render(**{**bound.arguments, out_name: Path(part)})
                    os.replace(part, entry)
                finally:
                    Path(part).unlink(missing_ok=True)
            shutil.copyfile(entry, out)
        return out

    return cached


def bytes_render(render: Callable[..., bytes], folder: Path) -> Callable[..., bytes]:
    """For `render(**options) -> bytes`: keyed on the options."""
    signature = inspect.signature(render)
    folder.mkdir(parents=True, exist_ok=True)

    @wraps(render)
    def cached(*args, **kwargs) -> bytes:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        with _once(folder, _key(render, dict(bound.arguments))) as entry:
            if not entry.exists():
                data = render(*bound.args, **bound.kwargs)
                fd, part = tempfile.mkstemp(dir=folder)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(part, entry)
            return entry.read_bytes()

    return cached
