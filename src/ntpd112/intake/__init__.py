"""Call intake: pure parsers for who called and from where (no I/O, no asyncio).

identity      caller identity from P-Asserted-Identity / From / the channel caller
numbering     calling numbers in the trunk's format -> E.164, and back for callbacks
pani          P-Access-Network-Info cell identity (3GPP TS 24.229)
geoloc        GEOLOC_PROFILE(location_info), Asterisk's reading of the PIDF-LO body -> LocationFix
aml           Advanced Mobile Location by SMS and HTTPS (ETSI TS 103 625), HMAC check
best_location the call's best fix among several
cells         OpenCellID rows and the cell lookup key
areas         GeoJSON administrative areas, point-in-polygon, the most precise area holding a point

Every parser either returns a frozen pydantic model or raises ``errors.IntakeParseError``.
"""
