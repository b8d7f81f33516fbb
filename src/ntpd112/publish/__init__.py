"""What the service publishes on its own: the monthly report files."""
