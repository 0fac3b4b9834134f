"""Prepare a data folder for the benchmark: a custom endpoint `bench/…` pointing at the fake upstream, and a
priority combo `bench-combo` whose first target is that endpoint.

Run with QUOTAGATE_KEYRING=off (the bench does) so the master key goes to a file in the folder, never to
the user's keyring:

    python -m tests.bench.setup_store --data-dir DIR --upstream http://127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.gateway import combos
from core.gateway.accounts import AccountStore
from core.secrets import SecretBox
from core.store import Store

PREFIX = "bench"
COMBO = "bench-combo"


def prepare(folder: Path, upstream_url: str) -> None:
    store = Store.open(folder)
    try:
        accounts = AccountStore(SecretBox.for_data_folder(folder))
        if not any(endpoint.prefix == PREFIX for endpoint in accounts.endpoints()):
            accounts.create_endpoint(PREFIX, "Benchmark fake upstream", f"{upstream_url}/v1", "openai", {},
                                     "sk-bench-not-a-real-key")
        if not any(combo.name == COMBO for combo in combos.load_combos()):
            combos.save_combo(COMBO, "priority", combos.targets_of([f"{PREFIX}/fake-model", "openai/gpt-4.1"]))
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    prepare(args.data_dir, args.upstream)


if __name__ == "__main__":
    main()
