"""Tests that drive ``posim serve`` in a real headless Chromium (marked ``browser``)."""
