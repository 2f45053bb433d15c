"""entra-hunt CLI."""


def main() -> None:
    """Run the CLI."""
