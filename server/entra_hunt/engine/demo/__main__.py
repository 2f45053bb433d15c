"""Regenerate the demo dataset: ``python -m entra_hunt.engine.demo DIRECTORY [--seed N]``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from entra_hunt.engine.demo import DEMO_SEED, write_dataset

logger = logging.getLogger("entra_hunt.engine.demo")


def main(argv: list[str] | None = None) -> int:
    """Write the dataset files and log each one's size."""
    parser = argparse.ArgumentParser(
        prog="python -m entra_hunt.engine.demo",
        description="Write the demo dataset of the fictional tenant Contoso Pharma.",
    )
    parser.add_argument("directory", type=Path, help="where to write <Table>.jsonl.gz files")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="background seed")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for table, path in write_dataset(args.directory, seed=args.seed).items():
        logger.info("%-34s %8d bytes  %s", table, path.stat().st_size, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
