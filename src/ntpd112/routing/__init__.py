"""Routing: incident categories, the agency directory and routing tables (pure domain, no I/O).

``categories``, ``agencies``, ``tables`` (the model), ``validation`` (``load_table``), ``matching``
(``match``/``explain``, fail-safe routes), ``diff``, ``defaults``, ``chain`` (walking a chain for a live call).
The fail-safe dialplan is rendered by ``pbx.routes_dialplan``.

A :class:`RoutingTable` is what admins edit (stored as JSON: ``RoutingTable.model_validate_json`` /
``model_dump_json``, or :func:`load_table` for errors that name the rule and field). It holds the categories
in use, the agency directory, the dispatch targets, the rules and a default chain.

Matching (:func:`match`)
    A rule is a *candidate* for a call when its categories contain the call's category (or are ``*``) and its
    areas contain the call's area (or are ``*``; an unknown area only matches ``*``). Candidates are ranked
    by:

    1. ``priority``, higher first;
    2. area-specific before area wildcard;
    3. category-specific before category wildcard;
    4. order in the table, earlier first.

    The ranked candidates are walked in order. The first one whose time windows contain the local time (a rule
    without windows is always active) is selected and its chain is the route. A candidate that is not active
    passes the call on to the next one, unless it has an ``outside_hours`` action: then the decision is
    ``after_hours`` (a message for the caller and a ticket for the agency). ``outside_hours`` is refused on
    rules that cover an emergency category, so an emergency never gets a ticket instead of a transfer. When no
    candidate applies, the table's ``default_chain`` (the 112 supervisors) is the route. Call outcomes (prank,
    silent, ...) are never routed (``no_dispatch``).

Time windows
    ``days`` + ``start``-``end`` in the table's timezone (default Asia/Jakarta), minute resolution, ``start``
    inclusive and ``end`` exclusive; ``end`` may be ``24:00``. A window whose end is before its start crosses
    midnight and belongs to the day it starts on: ``fri 22:00-06:00`` covers Friday 22:00 to Saturday 06:00.
    ``skip_holidays`` makes the window inactive on the table's ``holidays`` (dates of the starting day).

Continuations
    ``then: <rule id>`` appends that rule's chain (and its continuation) after a rule's own chain. Unknown
    references and loops are refused.

Fail-safe dialplan (:func:`render_dialplan`)
    See the function. It ignores time windows and areas because Asterisk routes alone while the service is
    down.
"""
