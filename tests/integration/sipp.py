"""The tests' callers and trunks: SIPp (ntpd112.devtools.sipp), and which loopback address is which trunk."""

from __future__ import annotations

from ntpd112.devtools.sipp import SippResult, run_sipp

__all__ = ["TRUNK_ADDRESSES", "SippResult", "run_sipp"]

TRUNK_ADDRESSES = {
    "telkomsel": "127.0.0.11",
    "indosat": "127.0.0.12",
    "xl": "127.0.0.13",
    "smartfren": "127.0.0.14",
    "telkom": "127.0.0.15",
}
