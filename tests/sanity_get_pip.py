"""Stand-in for ansible-test's pip bootstrap script (its download host is not
reachable here): pip from the interpreter's ensurepip, then pip 24.2 from PyPI."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "pip==24.2"])
