"""Media storage: S3 when MEDIA_BUCKET is set, else a local folder. Keys come from ids only,
never from user text: jobs/<job_id>/<kind>/<segment>.<ext>."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
from pathlib import Path
from typing import Protocol

from videobot.config import Settings


def job_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/"


def segment_key(job_id: str, kind: str, index: int, ext: str) -> str:
    return f"{job_prefix(job_id)}{kind}/{index:02d}.{ext}"


def text_key(job_id: str, kind: str, index: int, text: str | None, ext: str) -> str:
    """A segment's file made from its text (the narration that speaks it, the segment with it
    burned in as a subtitle): the key names the text's digest, so a file made from an older
    text is never taken for the current one. No text: the digest of none."""
    digest = hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:12]
    return f"{job_prefix(job_id)}{kind}/{index:02d}-{digest}.{ext}"


def job_key(job_id: str, name: str) -> str:
    return f"{job_prefix(job_id)}{name}"


def writable_key(key: str, *, prefix: bool = False) -> str:
    """A key this project writes (or deletes under): jobs/<id>/..., every segment a plain name
    (no "", "." or ".."), no backslash or control character. S3 has no folders to escape, but
    a key like jobs/../x is one no id makes, and the IAM policies scope writes to jobs/*."""
    parts = (key[:-1] if prefix and key.endswith("/") else key).split("/")
    plain = all(part not in ("", ".", "..") for part in parts) and "\\" not in key and key.isprintable()
    if parts[0] != "jobs" or len(parts) < 2 or not plain:
        raise ValueError(f"key escapes the media folder: {key!r}")
    return key


class Storage(Protocol):
    def put_bytes(self, key: str, data: bytes) -> str: ...
    def put_file(self, key: str, path: str | Path) -> str: ...
    def get_bytes(self, key: str) -> bytes: ...
    def download(self, key: str, path: str | Path) -> Path: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def url(self, key: str) -> str: ...
    def local_path(self, key: str) -> Path | None: ...


class LocalStorage:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"key escapes the media folder: {key!r}")
        return path

    def put_bytes(self, key: str, data: bytes) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return key

    def put_file(self, key: str, path: str | Path) -> str:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, dest)
        return key

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def download(self, key: str, path: str | Path) -> Path:
        shutil.copyfile(self._path(key), path)
        return Path(path)

    def delete_prefix(self, prefix: str) -> int:
        folder = self._path(prefix.rstrip("/"))
        if not folder.exists():
            return 0
        try:
            count = sum(1 for p in folder.rglob("*") if p.is_file())
        except FileNotFoundError:  # another delete (the cancel, or a late write's own) is under way
            count = 0
        for _ in range(3):  # a stage writing into the folder at this moment makes rmtree fail
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                break
        return count

    def url(self, key: str) -> str:
        return self._path(key).as_uri()

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


class S3Storage:
    def __init__(self, bucket: str, presign_seconds: int = 3600):
        import boto3  # provided by the Lambda runtime

        self.bucket = bucket
        self.presign_seconds = presign_seconds
        self.s3 = boto3.client("s3")

    def put_bytes(self, key: str, data: bytes) -> str:
        writable_key(key)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return key

    def put_file(self, key: str, path: str | Path) -> str:
        writable_key(key)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self.s3.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type})
        return key

    def get_bytes(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def download(self, key: str, path: str | Path) -> Path:
        self.s3.download_file(self.bucket, key, str(path))
        return Path(path)

    def delete_prefix(self, prefix: str) -> int:
        writable_key(prefix, prefix=True)
        count = 0
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
                count += len(objects)
        return count

    def url(self, key: str) -> str:
        return self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.presign_seconds
        )

    def local_path(self, key: str) -> Path | None:
        return None


def make_storage(settings: Settings) -> Storage:
    if settings.storage.media_bucket:
        return S3Storage(settings.storage.media_bucket, settings.storage.presign_seconds)
    return LocalStorage(settings.storage.media_dir)
