"""The HTTP edge: JSON API and server-rendered pages."""
