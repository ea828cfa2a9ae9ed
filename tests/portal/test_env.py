"""Local secrets of embedded mode."""

import stat

from portal.env import local_secret


def test_local_secret_creates_private_folder_and_file(tmp_path):
    path = tmp_path / "data" / "secret_key"

    value = local_secret(path)

    assert len(value) > 40
    assert local_secret(path) == value
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
