"""Dispatch: incident categories, the agency directory and the routing tables (pure domain modules).

``categories`` (categories, call outcomes, severity), ``agencies`` (agencies and dispatch targets) and
``routing`` (routing tables: validation, ``match``/``explain``, ``diff``, the fail-safe dialplan) do no I/O.
"""
