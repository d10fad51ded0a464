"""Adapters: the ports implemented over AWS (through boto3), the UK Carbon Intensity API and replayed CSV data."""
