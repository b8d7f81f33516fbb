"""Dispatch on the live call, the routing table in force (``routing_service``: versions, hot reload, the fail-safe
include), agency desk phones (``desks``) and incidents (``incidents``). The pure routing model lives in
``ntpd112.routing``.

The Stasis actor: ``actor`` (the service: REST requests, ARI events, one actor task per call) drives ``transitions``
with the ``messages`` of a call; ``session`` is the state of a call held by dispatch, ``plan`` turns a request into
the chain to ring, ``takeover`` moves a call from app_queue into Stasis (AMI), ``telephony`` rings agencies and lets
channels go (ARI), ``timeline`` writes the steps down; ``models`` are what the room sees.
"""
