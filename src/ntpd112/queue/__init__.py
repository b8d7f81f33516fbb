"""The operators' queue (app_queue): operators and their sessions (``operators``), queue events on the timeline
(``events``) and the callback list (``callbacks``)."""
