"""Speech in and out: recognition and the voices."""
