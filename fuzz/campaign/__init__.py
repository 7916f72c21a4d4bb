# SPDX-License-Identifier: Apache-2.0
"""The nightly fuzz campaign's parts (scripts/fuzz_campaign.py runs them; fuzz/README.md):
targets.py  the fuzz targets, their engine settings and the campaign's goals (in one place)
common.py   paths, logging, running commands
builds.py   the libFuzzer, AFL++ and coverage builds
engines.py  libFuzzer and AFL++ side by side on one target
crashes.py  merging new inputs into corpus/, triage and keeping crashes as regress files
coverage.py lib/src line and branch coverage of a corpus (gcovr)
summary.py  the run's machine-readable summary, its history file, goals and exit status
report.py   the HTML report page with plots over time (scripts/svgplot.py)
"""
