"""The mlflow suite: its helpers (server.py) importable; the server fixture is in tests/conftest.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
