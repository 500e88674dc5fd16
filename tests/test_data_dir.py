"""The embedded data directory holds hashes, credentials and the secret key: its user's only."""

from __future__ import annotations

import stat

from tests.conftest import run_cli


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_directory_is_700_and_its_files_600(tmp_path):
    data_dir = tmp_path / "new" / "eduvault"
    env = {"EDUVAULT_DATA_DIR": str(data_dir), "EDUVAULT_LOG_LEVEL": "WARNING"}
    result = run_cli("migrate", "-v0", env=_clean_env(env), check=True)
    assert result.returncode == 0
    assert mode(data_dir) == 0o700
    files = [p for p in data_dir.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"eduvault.sqlite3", "secret_key"}
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_an_older_world_readable_data_directory_is_tightened(tmp_path):
    data_dir = tmp_path / "eduvault"
    env = _clean_env({"EDUVAULT_DATA_DIR": str(data_dir), "EDUVAULT_LOG_LEVEL": "WARNING"})
    run_cli("migrate", "-v0", env=env, check=True)
    data_dir.chmod(0o755)
    for name in ("eduvault.sqlite3", "secret_key"):
        (data_dir / name).chmod(0o644)
    run_cli("token", "list", env=env, check=True)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "eduvault.sqlite3") == mode(data_dir / "secret_key") == 0o600


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a new user: no database URL, the embedded defaults."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDUVAULT_", "DATABASE_URL", "DJANGO_"))}
    return {**env, **extra}
