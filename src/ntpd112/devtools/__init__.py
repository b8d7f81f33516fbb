"""Development and test tooling, not part of the service: the local Asterisk in a chroot (``local_asterisk``),
the development set-up (``devsetup``), the SIPp runner (``sipp``) and the load harness (``loadtest``)."""
