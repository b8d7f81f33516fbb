"""Pure rules of people's access: roles, password strength and hashing, session expiry, attempt limits.

No I/O here (an import-linter contract): the store keeps users, sessions, tokens and the audit trail; web/auth.py
applies these rules to requests.
"""
