"""LTI 1.3: Edu Vault as a tool that platforms (Canvas, Open edX, Moodle) launch."""
