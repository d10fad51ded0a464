"""Reporting: figures derived from the evidence, and the artifacts (CSV, JSON, markdown, plots, HTML) made from them."""
