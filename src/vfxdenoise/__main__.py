"""`python -m vfxdenoise`: the `vfxdenoise` command, for where no console script is on PATH (a
host's $VFXDENOISE_COMMAND may name an interpreter: `/opt/py/bin/python -m vfxdenoise`)."""

from vfxdenoise.cli.main import main

if __name__ == "__main__":
    main()
