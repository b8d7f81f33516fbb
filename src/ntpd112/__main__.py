"""`python -m ntpd112`: the same as the `ntpd112` command."""

from ntpd112.cli import main

main()
