"""Dispatch on the live call: the Stasis actor that walks a routing chain (``actor``), the routing table in force
(``routing_service``: versions, hot reload, the fail-safe include), agency desk phones (``desks``) and incidents
(``incidents``). The pure routing model lives in ``ntpd112.routing``."""
