"""Kept for tests written against it: the TCP proxy is :mod:`tests.support.proxy`."""

from __future__ import annotations

from tests.support.proxy import TcpProxy

__all__ = ["TcpProxy"]
