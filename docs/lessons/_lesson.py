"""What every lesson script shares: fast mode and where its pictures go.

GRAPHKIT_FAST=1 (the test suite) means short settings and pictures in a temporary folder,
so the pictures committed in docs/lessons/images/ always come from full runs;
GRAPHKIT_LESSON_OUT=DIR sends them to DIR.
"""

import os
import tempfile
from pathlib import Path

FAST = os.environ.get("GRAPHKIT_FAST") == "1"
if "GRAPHKIT_LESSON_OUT" in os.environ:
    IMAGES = Path(os.environ["GRAPHKIT_LESSON_OUT"])
elif FAST:
    IMAGES = Path(tempfile.mkdtemp(prefix="graphkit-lesson-"))
else:
    IMAGES = Path(__file__).parent / "images"
IMAGES.mkdir(parents=True, exist_ok=True)
