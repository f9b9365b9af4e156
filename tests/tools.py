"""Finding the command-line tools the tests and benchmarks run."""

import os
import shutil
import sys


def console_script(name):
    """The ``name`` script installed next to this interpreter, else on PATH.

    ``make test PYTHON=/some/venv/bin/python`` runs with that venv's packages
    though the venv's ``bin`` is not on PATH: its scripts (ansible-playbook)
    lie next to the interpreter.
    """
    beside = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    return shutil.which(name)
