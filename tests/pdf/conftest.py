from __future__ import annotations

from pathlib import Path

import pytest

from laborsign.core.pdf.ca import PlatformCA


@pytest.fixture(scope="session")
def platform_ca(tmp_path_factory: pytest.TempPathFactory) -> PlatformCA:
    return PlatformCA.load_or_create(
        tmp_path_factory.mktemp("pki"), b"test-secret", "http://127.0.0.1:8080/api/v1/pki/crl"
    )


@pytest.fixture(scope="session")
def ca_dir(platform_ca: PlatformCA) -> Path:
    return platform_ca.directory
