"""The embedded AWS for laptops and tests: a moto server process, the stack created from template.yaml, handlers run in-process."""
