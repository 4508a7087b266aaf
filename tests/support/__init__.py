"""Helpers shared by the test suites (this package holds no tests): tests import from here, never
from one another."""
