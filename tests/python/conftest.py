import pytest


@pytest.fixture
def d(tmp_path):
    return str(tmp_path / "store")
