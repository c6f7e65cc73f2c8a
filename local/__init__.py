"""The local runner: the same ASL, executed by moto's Step Functions interpreter, with the
same Lambda handlers called in-process; embedded PostgreSQL; media in a local folder."""

from pathlib import Path


def load_dotenv_file() -> None:
    """Secrets and settings for a laptop come from `.env` (never committed); the shell's
    environment wins. On AWS they come from Secrets Manager instead (videobot/secrets.py)."""
    from dotenv import load_dotenv

    load_dotenv(Path(__file__).resolve().parent.parent / ".env", override=False)
