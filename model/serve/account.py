"""How a client finds the server: the saved default account, or environment variables.

Both client generations read ``~/.qiskit/qiskit-ibm.json``; ``QiskitRuntimeService()`` with no
arguments takes the default account of its default channel: ``default-ibm-cloud`` for the
seed-era client (channel ``ibm_cloud``), ``default-ibm-quantum-platform`` for today's client.
:func:`save_account` writes both entries, each naming a made-up cloud URL (the client derives
every host from it) and this server as the HTTP proxy for it. Other entries of the file are
kept; an entry it replaces is kept in ``<file>.sessionspec-backup`` first.

Today's client also fetches an IAM token from ``https://iam.cloud.ibm.com`` unless the
environment variable ``IAM_URL`` names another address; no account field does, so that one
variable must be set (:func:`environment`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

HOST = "sessionspec.example"
"""The made-up cloud host the clients derive their addresses from; nothing resolves it: the proxy answers."""
URL = f"http://{HOST}"
TOKEN = "sessionspec"
ACCOUNT_FILE = Path("~/.qiskit/qiskit-ibm.json")
SEED_ERA_ENTRY = "default-ibm-cloud"
CURRENT_ENTRY = "default-ibm-quantum-platform"


def proxy(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def accounts(instance: str, host: str, port: int) -> dict[str, dict[str, Any]]:
    """The two saved accounts (entry name -> fields) that point both client generations here."""
    proxies = {"urls": {"http": proxy(host, port)}}
    common = {"token": TOKEN, "url": URL, "instance": instance, "proxies": proxies, "verify": True}
    return {
        SEED_ERA_ENTRY: {"channel": "ibm_cloud", **common},
        CURRENT_ENTRY: {"channel": "ibm_quantum_platform", "private_endpoint": False, **common},
    }


def save_account(instance: str, host: str, port: int, path: Path | None = None) -> tuple[Path, Path | None]:
    """Write the two default accounts into the client's account file; (the file, the backup if one was made)."""
    target = (path or ACCOUNT_FILE).expanduser()
    data: dict[str, Any] = {}
    if target.is_file():
        text = target.read_text(encoding="utf-8")
        loaded = json.loads(text) if text.strip() else {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{target}: not a JSON object; not touched")
        data = loaded
    new = accounts(instance, host, port)
    backup = None
    if any(name in data and data[name] != fields for name, fields in new.items()):
        backup = target.with_name(target.name + ".sessionspec-backup")
        backup.write_text(json.dumps(data, indent=4), encoding="utf-8")
    data.update(new)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".sessionspec-tmp")
    temporary.write_text(json.dumps(data, indent=4) + "\n", encoding="utf-8")
    os.replace(temporary, target)
    return target, backup


def environment(instance: str, host: str, port: int) -> dict[str, str]:
    """Environment variables that connect a client without any saved account (``IAM_URL`` is needed
    by today's client in every case; ``http_proxy`` routes the client's plain-HTTP requests here)."""
    return {
        "IAM_URL": f"http://iam.{HOST}",
        "http_proxy": proxy(host, port),
        "QISKIT_IBM_TOKEN": TOKEN,
        "QISKIT_IBM_URL": URL,
        "QISKIT_IBM_INSTANCE": instance,
    }
