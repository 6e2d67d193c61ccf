"""Development machinery (fuzz harness; the layout branch adds the server, Chromium flags and build steps)."""
