"""greenai: carbon-aware ML training on AWS serverless — plan, measure and report training runs honestly."""

__version__ = "0.1.0"
