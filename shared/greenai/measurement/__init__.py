"""Measuring the energy of a piece of work: CodeCarbon configured for Lambda, with the CCF model beside it."""
