"""Test support shared by every service's suite: a private PostgreSQL, real HTTP servers, tokens."""
