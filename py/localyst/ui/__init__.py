"""The Panel user interface. Runs in the app worker; knows nothing of the wire format."""
