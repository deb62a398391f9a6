"""Reading a W&B run back from its ``.wandb`` file, with W&B's own protobuf classes.

The file is a LevelDB-style log (32 KiB blocks of CRC-checked chunks, after a 7-byte ``:W&B``
header) of ``wandb_internal_pb2.Record`` messages. wandb 0.31 ships no public reader, so this
small one serves the tests and anyone who wants to check what an offline run holds before
``wandb sync`` uploads it.
"""

from __future__ import annotations

import glob
import json
import os
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

_HEADER = struct.Struct("<4sHB")  # ident, magic, version
_IDENT, _MAGIC = b":W&B", 0xBEE1
_CHUNK = struct.Struct("<IHB")  # crc32, length, type
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def iter_record_bytes(path: str) -> Iterator[bytes]:
    """Each record's bytes, CRC-checked; a torn last record (a killed writer) is dropped."""
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < _HEADER.size:
        raise ValueError(f"{path} is too short to be a W&B run file")
    ident, magic, _version = _HEADER.unpack_from(data, 0)
    if ident != _IDENT or magic != _MAGIC:
        raise ValueError(f"{path} is not a W&B run file (header {data[:7]!r})")
    position, pending = _HEADER.size, b""
    while position + _CHUNK.size <= len(data):
        left_in_block = _BLOCK - position % _BLOCK
        if left_in_block < _CHUNK.size:  # a block's zero-filled trailer
            position += left_in_block
            continue
        checksum, length, kind = _CHUNK.unpack_from(data, position)
        if (checksum, length, kind) == (0, 0, 0):
            position += left_in_block
            continue
        body = data[position + _CHUNK.size: position + _CHUNK.size + length]
        if len(body) < length or zlib.crc32(body, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != checksum:
            return
        position += _CHUNK.size + length
        if kind == _FULL:
            yield body
        elif kind == _FIRST:
            pending = body
        elif kind == _MIDDLE:
            pending += body
        elif kind == _LAST:
            yield pending + body
            pending = b""


def iter_records(path: str) -> Iterator[Any]:
    """Each ``wandb_internal_pb2.Record`` of the file, in order."""
    from wandb.proto import wandb_internal_pb2

    for raw in iter_record_bytes(path):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(raw)
        yield record


def _key(item: Any) -> str:
    return "/".join(item.nested_key) if item.nested_key else item.key


@dataclass
class OfflineRun:
    """What a W&B run file holds: run id, name, config, history rows, summary, files, exit code."""

    path: str
    run_id: str = ""
    name: str = ""
    project: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    exit_code: Optional[int] = None
    # one dict per logged artifact: name, type, metadata, aliases, entries (path -> reference or ""),
    # staged (path -> the local copy W&B uploads at sync)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    record_types: dict[str, int] = field(default_factory=dict)

    def metric(self, key: str) -> list[tuple[int, Any]]:
        """(step, value) for every history row that has ``key``."""
        return [(row.get("_step"), row[key]) for row in self.history if key in row]


def read_run_file(path: str) -> OfflineRun:
    """Parse one ``run-<id>.wandb`` file."""
    run = OfflineRun(path)
    for record in iter_records(path):
        kind = record.WhichOneof("record_type")
        run.record_types[kind] = run.record_types.get(kind, 0) + 1
        if kind == "run":
            run.run_id, run.name, run.project = record.run.run_id, record.run.display_name, record.run.project
            for item in record.run.config.update:
                run.config[_key(item)] = json.loads(item.value_json)
        elif kind == "config":
            for item in record.config.update:
                run.config[_key(item)] = json.loads(item.value_json)
        elif kind == "history":
            run.history.append({_key(item): json.loads(item.value_json) for item in record.history.item})
        elif kind == "summary":
            for item in record.summary.update:
                run.summary[_key(item)] = json.loads(item.value_json)
        elif kind == "files":
            run.files += [entry.path for entry in record.files.files]
        elif kind == "artifact":
            artifact = record.artifact
            run.artifacts.append({
                "name": artifact.name, "type": artifact.type, "aliases": list(artifact.aliases),
                "metadata": json.loads(artifact.metadata) if artifact.metadata else {},
                "entries": {entry.path: entry.ref for entry in artifact.manifest.contents},
                "staged": {entry.path: entry.local_path for entry in artifact.manifest.contents if entry.local_path},
            })
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
    return run


def read_offline_run(folder: str, wait_seconds: float = 0.0) -> OfflineRun:
    """Parse the run file inside a run folder (``.../wandb/offline-run-<time>-<id>``).

    ``run.finish()`` returns before W&B's writer process has necessarily written the file to
    the end; with ``wait_seconds`` the file is read again until it holds the run's exit record.
    """
    found = glob.glob(os.path.join(folder, "run-*.wandb"))
    if len(found) != 1:
        raise ValueError(f"{folder} holds {len(found)} run-*.wandb files, expected one")
    deadline = time.monotonic() + wait_seconds
    while True:
        run = read_run_file(found[0])
        if run.exit_code is not None or time.monotonic() >= deadline:
            return run
        time.sleep(0.05)
