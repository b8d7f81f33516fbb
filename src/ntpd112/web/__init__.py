"""The HTTP API: app factory, shared plumbing (``common``) and one module of routes per part of the call path."""
