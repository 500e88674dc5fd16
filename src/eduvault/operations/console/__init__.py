"""The operations console: server-rendered pages at /console/ for staff."""
