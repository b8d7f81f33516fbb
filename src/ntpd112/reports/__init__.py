"""The room's reports: definitions and the one outcome rule (rules.py), files (export.py). Pure: no I/O."""
