"""``python -m clawsim``: the same as the ``clawsim`` command."""

from .cli import main

main()
