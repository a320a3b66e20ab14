"""The local stack: emulator launchers and the process supervisor behind `make up`, `make down`, `make demo`.

Everything here exists only because there is no cloud on a laptop. Workarounds for emulator defects
live in this package and nowhere else, each naming the upstream defect it works around.
"""
