# SPDX-License-Identifier: Apache-2.0
"""What every part of the campaign uses: the source root, logging (to stdout and the run's
campaign.log), running commands, the setup error, and the engine processes still alive."""
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
children = []  # every engine process started, killed if the campaign is interrupted
_log_file = None


class SetupError(Exception):
    """Something the campaign needs is missing or failed to build: exit status 2."""


def set_log_file(path):
    """From now on, log() also appends to `path` (None: stdout only)."""
    global _log_file
    if _log_file:
        _log_file.close()
    _log_file = open(path, "a", encoding="utf-8") if path else None


def log(msg=""):
    print(msg, flush=True)
    if _log_file:
        _log_file.write(msg + "\n")
        _log_file.flush()


def run(cmd, **kw):
    """Runs a command, returning CompletedProcess; output captured unless told otherwise."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    kw.setdefault("errors", "replace")
    return subprocess.run(cmd, **kw)


def corpus_dir(target):
    return os.path.join(ROOT, "corpus", target)
