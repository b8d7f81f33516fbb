"""The room configuration (asterisk/room.toml) and the queue priority of a call (pure)."""
