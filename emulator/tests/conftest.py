"""The emulator's own tests: its package importable as pocstack_emulator."""
import os
import sys

EMULATOR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if EMULATOR not in sys.path:
    sys.path.insert(0, EMULATOR)
