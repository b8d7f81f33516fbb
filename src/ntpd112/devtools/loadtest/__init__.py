"""`ntpd112 loadtest`: SIPp callers, operator and agency phones against the local Asterisk, through the service and
through Asterisk alone (the baseline), with a report of what happened to every call.

profiles   what a run does (pydantic, built-in or from a JSON/TOML file)
population the callers' CSV injection file
report     the maths: outcomes, percentiles, records consistency, ratios, the table (pure)
collect    SIPp logs and statistics, /metrics, the database, CPU and memory
runner     the orchestration
plot       the PNG
command    the click command
"""
