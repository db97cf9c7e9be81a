"""Run `tiled serve ...` (tiled 0.2.1) under the pinned FastAPI 0.165, whose
APIKeyBase.check_api_key(self, api_key) no longer takes the auto_error argument tiled 0.2.1
passes (every API-key request would be a 500 TypeError). The shim accepts and drops it — a
compatibility fix only, no change to what tiled does. Usage: python tiled_shim.py serve ..."""
import sys

import fastapi.security.api_key as api_key

_orig = api_key.APIKeyBase.check_api_key


def _check(self, key, auto_error=None):
    return _orig(self, key)


api_key.APIKeyBase.check_api_key = _check

from tiled.commandline.main import main  # noqa: E402

sys.argv[0] = "tiled"
sys.exit(main())
