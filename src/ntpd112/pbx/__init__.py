"""Asterisk: the ARI client and its event models, the AMI client, phones in AstDB, the shipped configuration and
fail-safe routes include, and every dialplan name the service relies on (``names``)."""
