"""ntpd112: call handling for Indonesia's single emergency number 112."""
